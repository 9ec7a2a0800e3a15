"""Many parties on one conversation: internal notes, transfers, release, a supervisor
joining, the away-agent rule, history for every agent; and what each viewer sees."""
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from branchline.accounts.models import User
from branchline.conversations import actions, selectors
from branchline.conversations.models import Conversation, Message, Participant
from branchline.conversations.payloads import message_for_staff
from branchline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from branchline.realtime import audiences
from tests import factories
from tests.factories import principal

pytestmark = pytest.mark.django_db


def start(customer, topic, text="Hello", cid="c1"):
    message, _ = actions.customer_message_send(principal=principal(customer), body=text, client_message_id=cid,
                                               topic_id=topic.id)
    return message.conversation_id


def active(world, customer=None):
    customer = customer or factories.customer()
    cid = start(customer, world.topic)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=cid)
    return customer, cid


def staff_send(user, cid, body, cid_=None, visibility="public"):
    message, _ = actions.staff_message_send(principal=principal(user), conversation_id=cid, body=body,
                                            client_message_id=cid_ or uuid.uuid4().hex,
                                            visibility=visibility)
    return message


def to_customer(events):
    return [e for e in events if any(a.startswith("customer:") for a in e["a"])]


def test_a_note_is_staff_only_and_leaves_no_hole_in_the_customers_stream(world, capture_events):
    customer, cid = active(world)
    with capture_events() as events:
        note = staff_send(world.agent, cid, "Customer sounds upset", visibility="staff")
        reply = staff_send(world.agent, cid, "How can I help?")
    assert (note.kind, note.visibility, note.seq, note.staff_seq) == ("note", "staff", None, 3)
    assert (reply.seq, reply.staff_seq) == (3, 4)  # the public stream stays dense
    assert [e["s"] for e in to_customer(events) if e["t"] == "message.created"] == [3]
    assert "Customer sounds upset" not in repr(to_customer(events))
    staff_events = [e for e in events if e["a"] == [f"staff:{world.agent.id}"] and e["t"] == "message.created"]
    assert [(e["s"], e["d"]["message"]["kind"]) for e in staff_events] == [(3, "note"), (4, "text")]
    # the customer's reads: public items only, numbered 1..3
    mine = selectors.messages_for_customer_before(customer.id, before_id=None, limit=50)
    assert [m.seq for m in reversed(mine)] == [1, 2, 3]
    assert selectors.messages_missed(principal(customer), {cid: 0}) == list(reversed(mine))
    # staff read every item in staff order
    assert [m.staff_seq for m in selectors.messages_missed(principal(world.agent), {cid: 0})] == [1, 2, 3, 4]


def test_notes_may_be_added_after_the_end_but_not_public_messages(world):
    _customer, cid = active(world)
    actions.conversation_end(principal=principal(world.agent), conversation_id=cid)
    staff_send(world.agent, cid, "Follow up by phone", visibility="staff")
    with pytest.raises(Conflict):
        staff_send(world.agent, cid, "Are you there?")
    with pytest.raises(InvalidInput):
        staff_send(world.agent, cid, "x", visibility="everyone")


def test_a_transfer_hands_over_with_a_note_the_customer_never_sees(world, capture_events):
    customer, cid = active(world)
    staff_send(world.agent, cid, "Earlier note", visibility="staff")
    with capture_events() as events:
        actions.conversation_transfer(principal=principal(world.agent), conversation_id=cid,
                                      to_user_id=world.agent2.id, note="Card blocked; verified identity")
    conversation = Conversation.objects.get(pk=cid)
    assert (conversation.assigned_agent_id, conversation.watchers) == (world.agent2.id, [world.agent2.id])
    lines = list(Message.objects.filter(conversation_id=cid).order_by("staff_seq")
                 .values_list("system_code", "visibility", "body"))
    assert lines[-2:] == [("transferred", "staff", "Card blocked; verified identity"), ("agent_joined", "public", "")]
    # the customer hears only that the receiver joined
    customer_messages = [e["d"]["message"] for e in to_customer(events) if e["t"] == "message.created"]
    assert [m["text"] for m in customer_messages] == [f"{world.agent2.display_name} joined the conversation."]
    assert "verified identity" not in repr(to_customer(events))
    # the receiver sees everything before it, notes included
    receiver = selectors.messages_missed(principal(world.agent2), {cid: 0})
    assert [m.body for m in receiver if m.kind == "note"] == ["Earlier note"]
    line = message_for_staff(receiver[-2])
    assert line["text"] == f"{world.agent.display_name} transferred the conversation to {world.agent2.display_name}."
    assert line["note"] == "Card blocked; verified identity"
    # the sender was told, no longer follows it, and keeps it among those they handled
    assert any(e["t"] == "conversation.updated" and f"staff:{world.agent.id}" in e["a"] for e in events)
    ended_or_handled = selectors.conversations_visible_to(principal(world.agent)).filter(pk=cid)
    assert ended_or_handled.exists()
    with pytest.raises(Forbidden) as refused:
        staff_send(world.agent, cid, "still here?")
    assert refused.value.code == "not_a_participant"


@pytest.mark.parametrize("target,code", [("outsider", "user_not_found"), ("admin", "user_not_found"),
                                         ("agent", "transfer_to_self")])
def test_a_transfer_to_someone_who_cannot_take_it_is_refused(world, target, code):
    _customer, cid = active(world)
    before = list(Message.objects.values_list("pk", flat=True))
    with pytest.raises((NotFound, InvalidInput)) as refused:
        actions.conversation_transfer(principal=principal(world.agent), conversation_id=cid,
                                      to_user_id=getattr(world, target).id)
    assert refused.value.code == code
    assert list(Message.objects.values_list("pk", flat=True)) == before


def test_release_puts_it_back_in_the_queue_for_another_agent(world, capture_events):
    customer, cid = active(world)
    with capture_events() as events:
        actions.conversation_release(principal=principal(world.agent), conversation_id=cid)
    conversation = Conversation.objects.get(pk=cid)
    assert (conversation.state, conversation.assigned_agent_id, conversation.watchers) == ("waiting", None, [])
    updated = [e["a"] for e in events if e["t"] == "conversation.updated" and world.queue_audience in e["a"]]
    assert updated == [[f"staff:{world.agent.id}", f"line:{world.lob.id}", world.queue_audience]]
    assert not [e for e in to_customer(events) if e["t"] == "message.created"]  # the release line is staff-only
    actions.conversation_accept(principal=principal(world.agent2), conversation_id=cid)
    assert Conversation.objects.get(pk=cid).assigned_agent_id == world.agent2.id


def test_a_supervisor_joins_silently_whispers_and_writes(world, capture_events):
    customer, cid = active(world)
    with capture_events() as events:
        actions.conversation_join(principal=principal(world.supervisor), conversation_id=cid)
        whisper = staff_send(world.supervisor, cid, "Offer the fee waiver", visibility="staff")
    assert not [e for e in to_customer(events) if e["t"] == "message.created"]
    assert whisper.kind == "note"
    notes_to_agent = [e for e in events if e["t"] == "message.created" and f"staff:{world.agent.id}" in e["a"]]
    assert [e["d"]["message"]["system_code"] or e["d"]["message"]["text"] for e in notes_to_agent] == [
        "supervisor_joined", "Offer the fee waiver"]
    with capture_events() as events:
        staff_send(world.supervisor, cid, "Hello, I am the team lead")
    shown = [e["d"]["message"] for e in to_customer(events) if e["t"] == "message.created"]
    assert [(m["sender"], m["agent_name"]) for m in shown] == [("agent", world.supervisor.display_name)]
    assert Participant.objects.get(conversation_id=cid, user=world.supervisor).role == "supervisor"


def test_the_away_agent_rule_returns_the_customer_to_the_queue(world):
    customer, cid = active(world)
    User.objects.filter(pk=world.agent.pk).update(last_seen_at=timezone.now() - timedelta(minutes=10))
    assert actions.conversations_release_from_away_agents(grace_seconds=60) == 0  # the customer has not written
    actions.customer_message_send(principal=principal(customer), body="Hello?", client_message_id="c2")
    assert actions.conversations_release_from_away_agents(grace_seconds=60) == 1
    conversation = Conversation.objects.get(pk=cid)
    assert (conversation.state, conversation.assigned_agent_id) == ("waiting", None)
    assert Message.objects.filter(conversation_id=cid).order_by("-staff_seq").first().system_code == "agent_away"
    assert actions.conversations_release_from_away_agents(grace_seconds=60) == 0  # idempotent
    # an agent who is here keeps their conversations
    customer2, cid2 = active(world)
    actions.staff_seen([world.agent.id])
    actions.customer_message_send(principal=principal(customer2), body="Hi again", client_message_id="c3")
    assert actions.conversations_release_from_away_agents(grace_seconds=60) == 0


def test_every_agent_who_may_see_a_conversation_sees_the_customers_whole_history(world):
    customer = factories.customer(authenticated=True)
    # an earlier conversation, with a note, handled by agent 1
    _c, old = active(world, customer)
    staff_send(world.agent, old, "VIP: call back", visibility="staff")
    actions.conversation_end(principal=principal(world.agent), conversation_id=old)
    # a new one, taken by agent 2
    new = start(customer, world.topic, text="Back again", cid="c9")
    actions.conversation_accept(principal=principal(world.agent2), conversation_id=new)
    history = selectors.history_for_staff_before(principal(world.agent2), new, before_id=None, limit=100)
    assert {m.conversation_id for m in history} == {old, new}
    assert "VIP: call back" in [m.body for m in history]
    # the earlier conversation itself opens for agent 2 through the history only, not as a conversation
    with pytest.raises(NotFound):
        selectors.access_conversation(principal(world.agent2), old)
    # someone who may see none of the customer's conversations gets nothing
    with pytest.raises(NotFound):
        selectors.history_for_staff_before(principal(world.outsider), new, before_id=None, limit=100)
    # the customer reads their own history without notes
    mine = selectors.messages_for_customer_before(customer.id, before_id=None, limit=100)
    assert {m.conversation_id for m in mine} == {old, new} and "VIP: call back" not in [m.body for m in mine]


def test_history_over_the_api_pages_back_by_id(world):
    customer = factories.customer(authenticated=True)
    _c, cid = active(world, customer)
    for n in range(5):
        staff_send(world.agent, cid, f"reply {n}")
    client = Client()
    client.force_login(world.agent)
    first = client.get(f"/api/staff/conversations/{cid}/history", {"limit": 3}).json()
    assert first["has_more"] and [m["text"] for m in first["messages"]] == ["reply 2", "reply 3", "reply 4"]
    older = client.get(f"/api/staff/conversations/{cid}/history",
                       {"limit": 10, "before_id": first["messages"][0]["id"]}).json()
    assert not older["has_more"] and [m["staff_seq"] for m in older["messages"]] == [1, 2, 3, 4]


def test_a_customer_retry_after_a_new_conversation_began_is_still_a_retry(world):
    customer = factories.customer(authenticated=True)
    first, _ = actions.customer_message_send(principal=principal(customer), body="Hi", client_message_id="same",
                                             topic_id=world.topic.id)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=first.conversation_id)
    actions.conversation_end(principal=principal(world.agent), conversation_id=first.conversation_id)
    start(customer, world.topic, text="New question", cid="other")
    again, created = actions.customer_message_send(principal=principal(customer), body="Hi", client_message_id="same")
    assert (created, again.pk) == (False, first.pk)
    assert Message.objects.filter(client_message_id="same").count() == 1


def test_supervisors_list_the_whole_line_of_business_and_agents_may_not(world):
    _c, mine = active(world)
    other = start(factories.customer(), world.topic)
    actions.conversation_accept(principal=principal(world.agent2), conversation_id=other)
    supervisor, agent = Client(), Client()
    supervisor.force_login(world.supervisor)
    agent.force_login(world.agent)
    listed = supervisor.get("/api/staff/conversations", {"state": "active", "scope": "line"}).json()
    assert {c["id"] for c in listed} == {mine, other}
    assert [c["id"] for c in agent.get("/api/staff/conversations", {"state": "active"}).json()] == [mine]
    refused = agent.get("/api/staff/conversations", {"state": "active", "scope": "line"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "role_forbidden"
    outsider = Client()
    outsider.force_login(world.outsider)
    assert outsider.get("/api/staff/conversations", {"state": "active", "scope": "line"}).status_code == 403


def test_only_whole_line_roles_hear_every_snapshot_of_the_line(world):
    line = f"line:{world.lob.id}"
    assert line not in audiences.of_principal(principal(world.agent))
    for user in (world.supervisor, world.admin, world.auditor):
        assert line in audiences.of_principal(principal(user))
    customer = factories.customer()
    assert audiences.of_principal(principal(customer)) == (f"customer:{customer.id}",)


def test_history_reads_have_a_budget_per_reader(world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "HISTORY_PAGES_BURST": 3, "HISTORY_PAGES_PER_SECOND": 0.01}
    _customer, cid = active(world)
    client = Client()
    client.force_login(world.agent)
    answers = [client.get(f"/api/staff/conversations/{cid}/history").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    other = Client()
    other.force_login(world.supervisor)  # another reader has a budget of their own
    assert other.get(f"/api/staff/conversations/{cid}/history").status_code == 200
