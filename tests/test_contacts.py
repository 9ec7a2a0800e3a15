"""Barring a customer and the Contacts page (issue 8, docs/protocol.md §13): a barred
customer's messages are dropped before they reach anyone (counted, never a conversation);
their open conversation ends at once; supervisors and administrators lift the bar; each
member of staff lists only the customers they may see."""
import json

import pytest

from branchline.audit.models import AuditRecord
from branchline.contacts.models import Customer
from branchline.conversations import actions
from branchline.conversations.models import Conversation, ConversationState, EndReason, Message, SystemCode
from branchline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from branchline.realtime import handlers
from tests import factories
from tests.factories import principal
from tests.support.tasks import run_tasks

pytestmark = pytest.mark.django_db


def _chat(world, customer=None, text="Hello", accept=True):
    customer = customer or factories.customer(authenticated=True, name="Jan Kowalski")
    first, _ = actions.customer_message_send(principal=principal(customer), body=text,
                                             client_message_id=f"c-{Message.objects.count()}",
                                             topic_id=world.topic.id)
    if accept:
        actions.conversation_accept(principal=principal(world.agent), conversation_id=first.conversation_id)
    return customer, first.conversation_id


@pytest.mark.django_db(transaction=True)  # the audit record is written by a task
def test_barring_ends_the_open_conversation_and_drops_what_the_customer_sends_next(world, capture_events):
    customer, cid = _chat(world)
    with capture_events() as events:
        actions.customer_bar(principal=principal(world.agent), conversation_id=cid, reason="Threatened the agent")
    customer.refresh_from_db()
    assert (customer.barred_at is not None, customer.barred_by, customer.bar_reason) == (
        True, world.agent.display_name, "Threatened the agent")
    conversation = Conversation.objects.get(pk=cid)
    assert (conversation.state, conversation.end_reason) == (ConversationState.ENDED, EndReason.BARRED)
    codes = [(m.system_code, m.visibility) for m in Message.objects.filter(conversation_id=cid).order_by("staff_seq")
             if m.system_code]
    assert codes[-2:] == [("barred", "staff"), ("ended", "public")]
    barred_line = Message.objects.get(conversation_id=cid, system_code=SystemCode.BARRED)
    assert barred_line.text() == f"{world.agent.display_name} barred the customer: Threatened the agent"
    to_customer = json.dumps([e["d"] for e in events if any(a.startswith("customer:") for a in e["a"])])
    assert "Threatened" not in to_customer and "barred" not in to_customer

    # What they send next reaches nobody: refused with a clear error, counted, nothing stored or told.
    before = (Conversation.objects.count(), Message.objects.count())
    with capture_events() as later:
        for n in range(2):
            with pytest.raises(Forbidden) as refused:
                actions.customer_message_send(principal=principal(customer), body="Answer me!",
                                              client_message_id=f"late-{n}", topic_id=world.topic.id)
            assert refused.value.code == "customer_barred"
    assert later == []
    assert (Conversation.objects.count(), Message.objects.count()) == before
    assert Customer.objects.get(pk=customer.id).dropped_messages == 2

    # Barring again changes nothing; the audit trail has it once.
    actions.customer_bar(principal=principal(world.supervisor), conversation_id=cid, reason="Again")
    assert Customer.objects.get(pk=customer.id).bar_reason == "Threatened the agent"
    run_tasks()
    barred = AuditRecord.objects.filter(event="customer.barred")
    assert [(r.data["barred"], r.data["reason"], r.data["closed"]) for r in barred] == [
        (True, "Threatened the agent", [cid])]


def test_a_waiting_spammer_is_barred_by_whoever_may_take_it(world):
    customer, cid = _chat(world, factories.customer(), accept=False)
    actions.customer_bar(principal=principal(world.agent2), conversation_id=cid, reason="Spam links")
    assert Conversation.objects.get(pk=cid).end_reason == EndReason.BARRED
    with pytest.raises(Forbidden):
        actions.customer_message_send(principal=principal(customer), body="buy now", client_message_id="s-2",
                                      topic_id=world.topic.id)


def test_a_bar_needs_a_reason_and_a_role_that_may_act(world, capture_events):
    customer, cid = _chat(world)
    with capture_events() as events:
        for reason, code in (("", "reason_required"), ("   ", "reason_required"), (None, "reason_required"),
                             ("x" * 501, "reason_too_long")):
            with pytest.raises(InvalidInput) as refused:
                actions.customer_bar(principal=principal(world.agent), conversation_id=cid, reason=reason)
            assert refused.value.code == code
        with pytest.raises(Forbidden) as auditor:
            actions.customer_bar(principal=principal(world.auditor), conversation_id=cid, reason="No")
        assert auditor.value.code == "role_read_only"
        with pytest.raises(NotFound):
            actions.customer_bar(principal=principal(world.outsider), conversation_id=cid, reason="No")
    assert events == [] and Customer.objects.get(pk=customer.id).barred_at is None


def test_supervisors_lift_a_bar_and_the_customer_writes_again(world):
    customer, cid = _chat(world)
    actions.customer_bar(principal=principal(world.agent), conversation_id=cid, reason="Abuse")
    for who, error, code in ((world.agent, Forbidden, "role_forbidden"), (world.auditor, Forbidden, "role_forbidden"),
                             (factories.staff(world.other_lob, role="supervisor"), NotFound, "customer_not_found")):
        with pytest.raises(error) as refused:
            actions.customer_unbar(principal=principal(who), customer_id=customer.id)
        assert refused.value.code == code
    assert Customer.objects.get(pk=customer.id).barred_at is not None
    actions.customer_unbar(principal=principal(world.supervisor), customer_id=customer.id)
    assert Customer.objects.get(pk=customer.id).barred_at is None
    again, _ = actions.customer_message_send(principal=principal(customer), body="Sorry about that",
                                             client_message_id="c-again", topic_id=world.topic.id)
    assert again.conversation_id != cid


def test_the_contacts_page_lists_whom_each_member_of_staff_may_see(world):
    jan, _cid = _chat(world)
    maria, _ = _chat(world, factories.customer(authenticated=True, name="Maria Silva"), accept=False)
    guest, guest_cid = _chat(world, factories.customer(), accept=False)
    other_line = factories.customer(authenticated=True, name="Olaf Other")
    actions.customer_message_send(principal=principal(other_line), body="Hi", client_message_id="o-1",
                                  topic_id=world.other_topic.id)

    def names(user, **query):
        client = factories.staff_browser(user)
        answer = client.get("/api/staff/contacts", query)
        assert answer.status_code == 200, answer.content
        return [c["name"] for c in answer.json()["contacts"]]

    assert names(world.supervisor) == ["Maria Silva", "Jan Kowalski"]  # guests only once barred
    assert names(world.agent) == ["Jan Kowalski"]  # the ones they took part in
    assert names(world.auditor, q="mar") == ["Maria Silva"]
    assert names(world.outsider) == []  # took part in none
    assert names(factories.staff(world.other_lob, role="supervisor")) == ["Olaf Other"]
    actions.customer_bar(principal=principal(world.agent2), conversation_id=guest_cid, reason="Spam")
    assert names(world.supervisor, barred="true") == ["Customer"]
    listed = factories.staff_browser(world.supervisor).get("/api/staff/contacts", {"barred": "true"}).json()
    assert listed["contacts"][0] | {"barred_at": None} == {
        "id": guest.id, "name": "Customer", "authenticated": False, "email": "", "barred": True, "barred_at": None,
        "barred_by": world.agent2.display_name, "bar_reason": "Spam", "dropped_messages": 0, "contact": None}
    page = factories.staff_browser(world.supervisor).get("/api/staff/contacts", {"limit": 1}).json()
    assert (len(page["contacts"]), page["next_before_id"]) == (1, page["contacts"][0]["id"])
    bad = factories.staff_browser(world.supervisor).get("/api/staff/contacts", {"limit": 0})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "limit_invalid")
    assert maria.id  # listed above


def test_barring_over_http_and_the_socket(world):
    _customer, cid = _chat(world)
    client = factories.staff_browser(world.agent)
    answer = factories.post_json(client, f"/api/staff/conversations/{cid}/bar", {"reason": "Abusive"})
    assert answer.status_code == 200, answer.content
    assert (answer.json()["state"], answer.json()["end_reason"], answer.json()["customer"]["barred"]) == (
        "ended", "barred", True)
    _other, cid2 = _chat(world, factories.customer(authenticated=True, name="Eve"))
    assert handlers._staff_action(principal(world.agent), "conversation.bar",
                                  {"conversation_id": cid2, "reason": "Spam"}) == cid2
    assert Conversation.objects.get(pk=cid2).end_reason == EndReason.BARRED
    unbar = factories.post_json(factories.staff_browser(world.supervisor), f"/api/staff/contacts/{_other.id}/unbar", {})
    assert (unbar.status_code, unbar.json()["barred"]) == (200, False)


def test_the_review_cases_of_barring(world):
    # A NUL in the reason is a clear refusal, not a database error.
    customer, cid = _chat(world)
    with pytest.raises(InvalidInput) as nul:
        actions.customer_bar(principal=principal(world.agent), conversation_id=cid, reason="a\x00b")
    assert nul.value.code == "reason_invalid"
    # A waiting one barred by an agent of its queue stays among theirs; a retry is no error.
    guest, waiting = _chat(world, factories.customer(), accept=False)
    actions.customer_bar(principal=principal(world.agent2), conversation_id=waiting, reason="Spam")
    actions.customer_bar(principal=principal(world.agent2), conversation_id=waiting, reason="Spam")
    ended = factories.staff_browser(world.agent2).get("/api/staff/conversations", {"state": "ended"}).json()
    assert waiting in [c["id"] for c in ended]
    # What they sent before the bar is still theirs to retry: answered as a duplicate, not counted.
    before = Message.objects.filter(conversation_id=waiting, sender="customer").first()
    again, created = actions.customer_message_send(principal=principal(guest), body=before.body,
                                                   client_message_id=before.client_message_id)
    assert (again.id, created, Customer.objects.get(pk=guest.id).dropped_messages) == (before.id, False, 0)
    # Nobody continues a conversation with a barred customer.
    actions.conversation_end(principal=principal(world.agent), conversation_id=cid)
    actions.customer_bar(principal=principal(world.agent), conversation_id=cid, reason="Abuse")
    with pytest.raises(Conflict) as continued:
        actions.conversation_continue(principal=principal(world.agent), conversation_id=cid, topic_id=world.topic.id,
                                      body="Hello again")
    assert continued.value.code == "customer_barred"
    assert customer.id
