"""The write path: conversations, messages, receipts, typing, and what each publishes."""
from datetime import timedelta

import pytest
from django.utils import timezone

from branchline.cases.models import Case
from branchline.contacts.models import Customer
from branchline.conversations import actions
from branchline.conversations.models import Conversation, ConversationState, Message
from branchline.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from tests import factories
from tests.factories import principal

pytestmark = pytest.mark.django_db


def start(customer, topic, text="Hello", cid="c1"):
    message, _ = actions.customer_message_send(principal=principal(customer), body=text, client_message_id=cid,
                                               topic_id=topic.id)
    return message


def test_first_message_starts_a_conversation_and_its_case(world):
    customer = factories.customer()
    message = start(customer, world.topic)
    conversation = message.conversation
    assert (message.seq, conversation.state, conversation.last_seq) == (1, "waiting", 1)
    assert conversation.case.topic == world.topic and conversation.case.case_type == world.topic.case_type
    assert conversation.line_of_business == world.lob
    second, created = actions.customer_message_send(principal=principal(customer), body="More", client_message_id="c2")
    assert created and second.conversation_id == conversation.id and second.seq == 2


def test_a_retried_send_creates_nothing(world):
    customer = factories.customer()
    first = start(customer, world.topic, cid="same")
    again, created = actions.customer_message_send(principal=principal(customer), body="Hello",
                                                   client_message_id="same", topic_id=world.topic.id)
    assert not created and again.pk == first.pk
    assert Message.objects.count() == 1 and Conversation.objects.count() == 1

    actions.conversation_accept(principal=principal(world.agent), conversation_id=first.conversation_id)
    reply, created1 = actions.staff_message_send(principal=principal(world.agent), conversation_id=first.conversation_id,
                                                 body="Hi", client_message_id="a1")
    retry, created2 = actions.staff_message_send(principal=principal(world.agent), conversation_id=first.conversation_id,
                                                 body="Hi", client_message_id="a1")
    assert (created1, created2, retry.pk) == (True, False, reply.pk)
    assert list(Message.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]


@pytest.mark.parametrize("body,code", [
    ("", "message_empty"), ("   \n ", "message_empty"), ("x" * 4001, "message_too_long"),
    ("a\x00b", "message_invalid"), (42, "message_invalid"),
])
def test_bad_bodies_are_refused_and_nothing_is_written(world, body, code):
    with pytest.raises(InvalidInput) as error:
        actions.customer_message_send(principal=principal(factories.customer()), body=body, client_message_id="c1",
                                      topic_id=world.topic.id)
    assert error.value.code == code
    assert Message.objects.count() == Conversation.objects.count() == Case.objects.count() == 0


@pytest.mark.parametrize("cid", ["", "x" * 65, "has space", "<script>", None])
def test_bad_client_message_ids_are_refused(world, cid):
    with pytest.raises(InvalidInput):
        actions.customer_message_send(principal=principal(factories.customer()), body="Hi", client_message_id=cid,
                                      topic_id=world.topic.id)
    assert Message.objects.count() == 0


def test_a_topic_is_needed_to_start_and_must_exist(world):
    customer = factories.customer()
    with pytest.raises(InvalidInput):
        actions.customer_message_send(principal=principal(customer), body="Hi", client_message_id="c1")
    with pytest.raises(NotFound):
        actions.customer_message_send(principal=principal(customer), body="Hi", client_message_id="c1", topic_id=99999)
    assert Conversation.objects.count() == Case.objects.count() == 0


def test_exactly_one_agent_takes_a_conversation(world):
    message = start(factories.customer(), world.topic)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=message.conversation_id)
    with pytest.raises(Conflict) as error:
        actions.conversation_accept(principal=principal(world.agent2), conversation_id=message.conversation_id)
    assert error.value.code == "already_taken"
    # A retried accept by the winner is harmless; one "joined" line only.
    actions.conversation_accept(principal=principal(world.agent), conversation_id=message.conversation_id)
    assert Message.objects.filter(system_code="agent_joined").count() == 1
    conversation = Conversation.objects.get()
    assert (conversation.state, conversation.assigned_agent) == ("active", world.agent)


def test_staff_of_another_line_of_business_cannot_see_or_take(world):
    message = start(factories.customer(), world.topic)
    with pytest.raises(NotFound):
        actions.conversation_accept(principal=principal(world.outsider), conversation_id=message.conversation_id)
    assert Conversation.objects.get().state == "waiting"


def test_agents_write_only_in_conversations_they_handle_while_open(world):
    message = start(factories.customer(), world.topic)
    cid = message.conversation_id
    with pytest.raises(Forbidden) as refused:  # visible in the queue, but not theirs to write in
        actions.staff_message_send(principal=principal(world.agent), conversation_id=cid, body="Hi", client_message_id="a")
    assert refused.value.code == "not_a_participant"
    actions.conversation_accept(principal=principal(world.agent), conversation_id=cid)
    with pytest.raises(NotFound):  # someone else's conversation is not even visible
        actions.staff_message_send(principal=principal(world.agent2), conversation_id=cid, body="Hi", client_message_id="b")
    actions.conversation_end(principal=principal(world.agent), conversation_id=cid)
    with pytest.raises(Conflict):
        actions.staff_message_send(principal=principal(world.agent), conversation_id=cid, body="Hi", client_message_id="c")
    assert [m.system_code for m in Message.objects.order_by("seq")] == ["", "agent_joined", "ended"]


def test_authenticated_customers_continue_their_open_case_anonymous_ones_do_not(world):
    known = factories.customer(authenticated=True)
    first = start(known, world.topic)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=first.conversation_id)
    actions.conversation_end(principal=principal(world.agent), conversation_id=first.conversation_id)
    second = start(known, world.topic, cid="c2")
    assert second.conversation_id != first.conversation_id
    assert second.conversation.case_id == first.conversation.case_id

    guest = factories.customer()
    g1 = start(guest, world.topic, cid="g1")
    actions.conversation_accept(principal=principal(world.agent), conversation_id=g1.conversation_id)
    actions.conversation_end(principal=principal(world.agent), conversation_id=g1.conversation_id)
    g2 = start(guest, world.topic, cid="g2")
    assert g2.conversation.case_id != g1.conversation.case_id


def test_receipts_only_move_forward_and_never_past_the_last_message(world):
    customer = factories.customer()
    message = start(customer, world.topic)
    cid = message.conversation_id
    actions.conversation_accept(principal=principal(world.agent), conversation_id=cid)
    actions.receipt_update(principal=principal(customer), conversation_id=cid, read_seq=99)
    conversation = Conversation.objects.get()
    assert (conversation.customer_read_seq, conversation.customer_delivered_seq) == (2, 2)
    actions.receipt_update(principal=principal(customer), conversation_id=cid, read_seq=1)
    assert Conversation.objects.get().customer_read_seq == 2
    with pytest.raises(InvalidInput):
        actions.receipt_update(principal=principal(customer), conversation_id=cid, read_seq=-1)
    with pytest.raises(InvalidInput):
        actions.receipt_update(principal=principal(customer), conversation_id=cid)
    with pytest.raises(NotFound):
        actions.receipt_update(principal=principal(factories.customer()), conversation_id=cid, read_seq=1)


def test_message_events_reach_exactly_their_audiences(world, capture_events):
    customer = factories.customer()
    with capture_events() as events:
        message = start(customer, world.topic)
    created = [e for e in events if e["t"] == "message.created"]
    # One event per stream: the customer's (public numbers), the staff's (staff numbers).
    assert [e["a"] for e in created] == [[f"customer:{customer.id}"], [world.queue_audience]]
    assert [(e["c"], e["s"]) for e in created] == [(message.conversation_id, 1)] * 2
    assert "staff_seq" not in created[0]["d"]["message"] and created[1]["d"]["message"]["staff_seq"] == 1
    updated = [e for e in events if e["t"] == "conversation.updated"]
    assert sorted(a for e in updated for a in e["a"]) == sorted([f"customer:{customer.id}", f"line:{world.lob.id}",
                                                                 world.queue_audience])

    with capture_events() as events:
        actions.conversation_accept(principal=principal(world.agent), conversation_id=message.conversation_id)
        actions.staff_message_send(principal=principal(world.agent), conversation_id=message.conversation_id,
                                   body="Hi", client_message_id="a1")
    assert [e["a"] for e in events if e["t"] == "message.created"] == [
        [f"customer:{customer.id}"], [f"staff:{world.agent.id}"]] * 2


def test_customers_never_get_staff_only_shapes(world, capture_events):
    customer = factories.customer()
    with capture_events() as events:
        message = start(customer, world.topic)
        actions.conversation_accept(principal=principal(world.agent), conversation_id=message.conversation_id)
    for event in events:
        to_customer = any(a.startswith("customer:") for a in event["a"])
        to_staff = any(not a.startswith("customer:") for a in event["a"])
        if event["t"] == "conversation.updated":
            assert to_customer != to_staff, "one shape per side"
            if to_customer:
                assert not {"case_id", "customer", "assigned_agent", "unread_count"} & set(event["d"]["conversation"])


def test_typing_goes_to_the_other_side_only(world, capture_events):
    customer = factories.customer()
    message = start(customer, world.topic)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=message.conversation_id)
    with capture_events() as events:
        actions.typing_signal(principal=principal(customer), conversation_id=message.conversation_id, is_typing=True)
        actions.typing_signal(principal=principal(world.agent), conversation_id=message.conversation_id, is_typing=True)
    viewers = f"viewers:{message.conversation_id}"  # staff who have it open (tests/test_presence.py)
    assert [e["a"] for e in events] == [[f"staff:{world.agent.id}", viewers], [f"customer:{customer.id}"], [viewers]]
    with pytest.raises(InvalidInput):
        actions.typing_signal(principal=principal(customer), conversation_id=message.conversation_id, is_typing="yes")


def test_a_rolled_back_action_publishes_nothing(world, capture_events):
    customer = factories.customer()
    with capture_events() as events:
        with pytest.raises(NotFound):
            actions.customer_message_send(principal=principal(customer), body="Hi", client_message_id="c1",
                                          topic_id=424242)
    assert events == []


def test_anonymous_conversations_end_after_the_grace_period(world):
    gone, here, known = factories.customer(), factories.customer(), factories.customer(authenticated=True)
    for c, cid in ((gone, "g"), (here, "h"), (known, "k")):
        start(c, world.topic, cid=cid)
    long_ago = timezone.now() - timedelta(seconds=600)
    Customer.objects.filter(pk__in=[gone.pk, known.pk]).update(last_seen_at=long_ago)
    assert actions.conversations_end_abandoned(grace_seconds=60) == 1
    assert actions.conversations_end_abandoned(grace_seconds=60) == 0  # idempotent
    states = {c.customer_id: (c.state, c.end_reason) for c in Conversation.objects.all()}
    assert states[gone.pk] == ("ended", "customer_left")
    assert states[here.pk][0] == states[known.pk][0] == ConversationState.WAITING
    assert Message.objects.filter(customer=gone, system_code="customer_left").count() == 1


def test_sending_too_fast_is_refused_without_writing(world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "MESSAGE_RATE_PER_SECOND": 0.01, "MESSAGE_RATE_BURST": 3}
    customer = factories.customer()
    for n in range(3):
        actions.customer_message_send(principal=principal(customer), body="Hi", client_message_id=f"c{n}",
                                      topic_id=world.topic.id)
    with pytest.raises(RateLimited) as error:
        actions.customer_message_send(principal=principal(customer), body="Hi", client_message_id="c9")
    assert error.value.retry_after > 0
    assert Message.objects.count() == 3


def test_each_side_has_its_own_client_message_ids(world):
    customer = factories.customer()
    first = start(customer, world.topic, cid="shared-id")
    cid = first.conversation_id
    actions.conversation_accept(principal=principal(world.agent), conversation_id=cid)
    reply, created = actions.staff_message_send(principal=principal(world.agent), conversation_id=cid, body="Hi",
                                                client_message_id="shared-id")
    assert created and reply.pk != first.pk and reply.sender == "agent"
    second, created = actions.customer_message_send(principal=principal(customer), body="again",
                                                    client_message_id="shared-id")
    assert not created and second.pk == first.pk


def test_accepting_an_ended_conversation_says_it_ended(world):
    message = start(factories.customer(), world.topic)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=message.conversation_id)
    actions.conversation_end(principal=principal(world.agent), conversation_id=message.conversation_id)
    with pytest.raises(Conflict) as error:
        actions.conversation_accept(principal=principal(world.agent2), conversation_id=message.conversation_id)
    assert error.value.code == "conversation_ended"


def test_the_queue_hears_only_that_a_taken_conversation_left(world, capture_events):
    message = start(factories.customer(), world.topic)
    with capture_events() as events:
        actions.conversation_accept(principal=principal(world.agent), conversation_id=message.conversation_id)
    to_queue = [e for e in events if world.queue_audience in e["a"]]
    assert [e["t"] for e in to_queue] == ["queue.left"]
    assert to_queue[0]["d"] == {"conversation_id": message.conversation_id, "state": "active"}
