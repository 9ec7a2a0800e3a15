"""Queues as their own objects (issue 8, docs/adr/0019): which waiting conversations each
member of staff sees and may take (queues they are enabled on, channels they are granted),
routing by topic, sending a conversation to another queue, rejecting one, transfer
candidates, and the queue audiences of staff sockets."""
import json
import time

import pytest
from websockets.sync.client import connect

from branchline.connectors.actions import channel_web
from branchline.connectors.models import Channel
from branchline.conversations import actions, selectors
from branchline.conversations.models import Conversation, ConversationState, EndReason, Message, SystemCode
from branchline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from branchline.realtime import handlers
from branchline.routing.models import ChannelGrant, Queue, QueueMember
from tests import factories
from tests.factories import principal
from tests.test_socket import staff_cookie

pytestmark = pytest.mark.django_db


def _waiting(world, topic=None, customer=None, text="Hello"):
    customer = customer or factories.customer()
    first, _ = actions.customer_message_send(principal=principal(customer), body=text,
                                             client_message_id=f"c-{Message.objects.count()}",
                                             topic_id=(topic or world.topic).id)
    return first.conversation_id


def _pending_ids(user):
    return [c.id for c in selectors.conversations_for_staff(principal(user), state=ConversationState.WAITING)]


def _codes(conversation_id):
    return [(m.system_code, m.visibility) for m in
            Message.objects.filter(conversation_id=conversation_id).order_by("staff_seq") if m.system_code]


# --- who sees what waits -------------------------------------------------------------------

def test_an_agent_sees_and_takes_only_what_waits_in_queues_they_serve_from_channels_they_are_granted(world):
    cid = _waiting(world)
    assert Conversation.objects.get(pk=cid).queue_id == world.queue.id
    enabled_only = factories.staff(world.lob, serving=False)
    QueueMember.objects.create(queue=world.queue, user=enabled_only)  # no channel granted
    granted_only = factories.staff(world.lob, serving=False)
    ChannelGrant.objects.create(user=granted_only, channel=channel_web())  # on no queue
    assert _pending_ids(world.agent) == [cid]
    for user in (enabled_only, granted_only):
        assert _pending_ids(user) == []
        with pytest.raises(NotFound):
            selectors.access_conversation(principal(user), cid)
        with pytest.raises(NotFound):
            actions.conversation_accept(principal=principal(user), conversation_id=cid)
        assert list(selectors.conversations_visible_to(principal(user))) == []
    # The line's supervisor sees every queue of the line, served or not.
    assert _pending_ids(world.supervisor) == [cid]
    assert _pending_ids(world.outsider) == []
    assert Conversation.objects.get(pk=cid).state == ConversationState.WAITING


def test_a_topic_sends_its_conversations_to_its_own_queue_and_only_its_members_see_them(world):
    world.loans.queue = world.queue2
    world.loans.save(update_fields=["queue"])
    mortgage_agent = factories.staff(world.lob)
    factories.serve(mortgage_agent, world.queue2)
    loans = _waiting(world, topic=world.loans)
    cards = _waiting(world)
    assert Conversation.objects.get(pk=loans).queue_id == world.queue2.id
    assert _pending_ids(mortgage_agent) == [cards, loans]  # newest first; serves both queues
    assert _pending_ids(world.agent) == [cards]
    with pytest.raises(NotFound):
        actions.conversation_accept(principal=principal(world.agent), conversation_id=loans)
    actions.conversation_accept(principal=principal(mortgage_agent), conversation_id=loans)
    # Whoever could have taken it hears that it is taken; someone outside the queue, nothing.
    colleague = factories.staff(world.lob, serving=False)
    factories.serve(colleague, world.queue2)
    with pytest.raises(Conflict) as taken:
        actions.conversation_accept(principal=principal(colleague), conversation_id=loans)
    assert taken.value.code == "already_taken"
    with pytest.raises(NotFound):
        actions.conversation_accept(principal=principal(world.agent2), conversation_id=loans)


def test_a_topic_only_takes_a_queue_of_its_own_line(world):
    from django.core.exceptions import ValidationError

    other_queue = Queue.objects.create(line_of_business=world.other_lob, name="Treasury desk")
    world.topic.queue = other_queue
    with pytest.raises(ValidationError) as refused:
        world.topic.full_clean()
    assert "queue" in refused.value.message_dict


def test_a_line_without_a_queue_gets_its_default_queue_with_its_first_conversation(world):
    line = factories.line_of_business("Private Banking")
    topic = factories.topic(line, "Wealth")
    assert not Queue.objects.filter(line_of_business=line).exists()
    cid = _waiting(world, topic=topic)
    queue = Queue.objects.get(line_of_business=line)
    assert (queue.name, queue.is_default, Conversation.objects.get(pk=cid).queue_id) == ("Private Banking", True,
                                                                                         queue.id)


def test_waiting_messages_reach_only_the_queue_audience_of_its_queue_and_channel(world, capture_events):
    with capture_events() as events:
        cid = _waiting(world)
    created = [e for e in events if e["t"] == "message.created"]
    assert [e["a"] for e in created] == [[f"customer:{Conversation.objects.get(pk=cid).customer_id}"],
                                         [world.queue_audience]]


# --- sending to another queue --------------------------------------------------------------

def test_the_agent_sends_a_conversation_in_progress_to_another_queue_with_a_note(world, capture_events):
    cid = _waiting(world)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=cid)
    mortgage_agent = factories.staff(world.lob)
    factories.serve(mortgage_agent, world.queue2)
    with capture_events() as events:
        conversation = actions.conversation_queue_set(principal=principal(world.agent), conversation_id=cid,
                                                      queue_id=world.queue2.id, note="About a mortgage")
    conversation.refresh_from_db()
    assert (conversation.state, conversation.queue_id, conversation.assigned_agent_id, conversation.watchers) == (
        ConversationState.WAITING, world.queue2.id, None, [])
    line = Message.objects.get(conversation_id=cid, system_code=SystemCode.QUEUED)
    assert (line.visibility, line.seq, line.text()) == (
        "staff", None, f"{world.agent.display_name} moved the conversation to the Mortgages queue.")
    staff_line = [e["d"]["message"] for e in events if e["t"] == "message.created"][-1]
    assert (staff_line["system_code"], staff_line["note"]) == ("queued", "About a mortgage")
    new_queue = f"queue:{world.queue2.id}:{channel_web().id}"
    # The new queue gets it (with the agent who let it go); the old queue never had it waiting.
    updated = [e["a"] for e in events if e["t"] == "conversation.updated"]
    assert updated == [[f"customer:{conversation.customer_id}"],
                       [f"staff:{world.agent.id}", f"line:{world.lob.id}", new_queue]]
    assert [e for e in events if e["t"] == "queue.left"] == []
    # The customer is told nothing but that they wait again: no staff line, no note.
    customer_view = json.dumps([e["d"] for e in events if any(a.startswith("customer:") for a in e["a"])])
    assert "About a mortgage" not in customer_view and "Mortgages" not in customer_view
    assert _pending_ids(mortgage_agent) == [cid] and _pending_ids(world.agent) == []
    # The agent who let it go still finds it among those they handled.
    assert selectors.access_conversation(principal(world.agent), cid).id == cid


def test_a_waiting_conversation_moves_between_queues_and_the_old_queue_hears_it_left(world, capture_events):
    cid = _waiting(world)
    with capture_events() as events:
        actions.conversation_queue_set(principal=principal(world.agent2), conversation_id=cid,
                                       queue_id=world.queue2.id)
    assert [(e["a"], e["d"]) for e in events if e["t"] == "queue.left"] == [
        ([world.queue_audience], {"conversation_id": cid, "state": "waiting"})]
    assert _codes(cid)[-1] == ("queued", "staff")
    # agent2 served the old queue, not this one: it is out of their sight now.
    with pytest.raises(NotFound):
        selectors.access_conversation(principal(world.agent2), cid)


def test_sending_to_a_queue_refuses_what_it_cannot_do(world, capture_events):
    cid = _waiting(world)
    other_line_queue = Queue.objects.create(line_of_business=world.other_lob, name="Treasury desk")
    agent = principal(world.agent)
    with capture_events() as events:
        for queue_id, error, code in ((other_line_queue.id, NotFound, "queue_not_found"),
                                      (10**30, NotFound, "queue_not_found"),
                                      ("first", NotFound, "queue_not_found"),
                                      (world.queue.id, InvalidInput, "queue_unchanged")):
            with pytest.raises(error) as refused:
                actions.conversation_queue_set(principal=agent, conversation_id=cid, queue_id=queue_id)
            assert refused.value.code == code
        with pytest.raises(InvalidInput) as too_long:
            actions.conversation_queue_set(principal=agent, conversation_id=cid, queue_id=world.queue2.id,
                                           note="x" * 5000)
        assert too_long.value.code == "message_too_long"
    assert events == [] and _codes(cid) == []
    actions.conversation_end(principal=principal(world.supervisor), conversation_id=cid)
    with pytest.raises(Conflict) as ended:
        actions.conversation_queue_set(principal=principal(world.supervisor), conversation_id=cid,
                                       queue_id=world.queue2.id)
    assert ended.value.code == "conversation_ended"


# --- rejecting ------------------------------------------------------------------------------

def test_rejecting_a_waiting_conversation_ends_it_and_the_customers_next_message_starts_anew(world, capture_events):
    customer = factories.customer()
    cid = _waiting(world, customer=customer)
    with capture_events() as events:
        actions.conversation_reject(principal=principal(world.agent2), conversation_id=cid, rejection="duplicate",
                                    note="Same as #12")
    conversation = Conversation.objects.get(pk=cid)
    assert (conversation.state, conversation.end_reason, conversation.rejection) == (
        ConversationState.ENDED, EndReason.REJECTED, "duplicate")
    assert _codes(cid) == [("rejected", "staff"), ("ended", "public")]
    rejected = Message.objects.get(conversation_id=cid, system_code=SystemCode.REJECTED)
    assert rejected.text() == f"{world.agent2.display_name} rejected the conversation: A duplicate"
    customer_view = json.dumps([e["d"] for e in events if any(a.startswith("customer:") for a in e["a"])])
    assert "duplicate" not in customer_view and "Same as #12" not in customer_view
    assert [e["a"] for e in events if e["t"] == "queue.left"] == [[world.queue_audience]]
    again, _ = actions.customer_message_send(principal=principal(customer), body="Hello?", client_message_id="c-new",
                                             topic_id=world.topic.id)
    assert again.conversation_id != cid
    # The rejecter finds it among the conversations they handled; a retry hears it has ended.
    assert cid in [c.id for c in selectors.conversations_for_staff(principal(world.agent2), state="ended")]
    before = Message.objects.count()
    with pytest.raises(Conflict) as retried:
        actions.conversation_reject(principal=principal(world.agent2), conversation_id=cid, rejection="duplicate")
    assert (retried.value.code, Message.objects.count()) == ("conversation_ended", before)


def test_rejecting_needs_a_known_reason_and_a_note_for_another_reason(world, capture_events):
    cid = _waiting(world)
    with capture_events() as events:
        for rejection, note, code in (("boring", "", "rejection_invalid"), (None, "", "rejection_invalid"),
                                      ("other", "  ", "note_required")):
            with pytest.raises(InvalidInput) as refused:
                actions.conversation_reject(principal=principal(world.agent), conversation_id=cid,
                                            rejection=rejection, note=note)
            assert refused.value.code == code
    assert events == [] and Conversation.objects.get(pk=cid).state == ConversationState.WAITING
    actions.conversation_end(principal=principal(world.supervisor), conversation_id=cid)
    with pytest.raises(Conflict) as ended:
        actions.conversation_reject(principal=principal(world.supervisor), conversation_id=cid, rejection="spam")
    assert ended.value.code == "conversation_ended"


def test_rejecting_over_http_and_the_socket(world):
    cid = _waiting(world)
    client = factories.staff_browser(world.agent)
    response = factories.post_json(client, f"/api/staff/conversations/{cid}/reject",
                                   {"rejection": "other", "note": "Test message from our own team"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["end_reason"], body["rejection"]) == ("ended", "rejected", "other")
    cid2 = _waiting(world)
    assert handlers._staff_action(principal(world.agent), "conversation.reject",
                                  {"conversation_id": cid2, "rejection": "spam"}) == cid2
    assert Conversation.objects.get(pk=cid2).rejection == "spam"


def test_queue_over_http_answers_with_the_conversation_even_out_of_the_actors_sight(world):
    cid = _waiting(world)
    client = factories.staff_browser(world.agent2)
    response = factories.post_json(client, f"/api/staff/conversations/{cid}/queue", {"queue_id": world.queue2.id})
    assert response.status_code == 200, response.content
    assert (response.json()["queue"], response.json()["state"]) == ({"id": world.queue2.id, "name": "Mortgages"},
                                                                    "waiting")
    assert client.get(f"/api/staff/conversations/{cid}").status_code == 404
    bad = factories.post_json(client, f"/api/staff/conversations/{cid}/queue", {"queue_id": "x"})
    assert bad.status_code == 422
    queues = client.get("/api/staff/queues").json()
    assert queues == [{"id": world.queue2.id, "name": "Mortgages", "is_default": False, "serving": False},
                      {"id": world.queue.id, "name": "Retail", "is_default": True, "serving": True}]


# --- transfer candidates ---------------------------------------------------------------------

def test_a_transfer_goes_only_to_staff_granted_the_conversations_channel(world):
    cid = _waiting(world)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=cid)
    ungranted = factories.staff(world.lob, serving=False)
    client = factories.staff_browser(world.agent)
    ids = {c["id"] for c in client.get(f"/api/staff/conversations/{cid}/transfer-candidates").json()}
    assert ids == {world.agent2.id, world.supervisor.id}
    with pytest.raises(NotFound) as refused:
        actions.conversation_transfer(principal=principal(world.agent), conversation_id=cid, to_user_id=ungranted.id)
    assert refused.value.code == "user_not_found"


# --- socket audiences ---------------------------------------------------------------------------

def test_staff_sockets_join_the_queue_audiences_of_what_they_serve(world):
    web = channel_web().id
    whatsapp = Channel.objects.create(kind="whatsapp_test", name="WhatsApp")
    ChannelGrant.objects.create(user=world.agent, channel=whatsapp)
    keys = dict(zip(("agent", "supervisor", "auditor", "outsider"), handlers.audiences_of(
        [principal(u) for u in (world.agent, world.supervisor, world.auditor, world.outsider)])))
    assert set(keys["agent"]) == {f"staff:{world.agent.id}", f"queue:{world.queue.id}:{web}",
                                  f"queue:{world.queue.id}:{whatsapp.id}"}
    assert set(keys["supervisor"]) == {f"staff:{world.supervisor.id}", f"line:{world.lob.id}"} | {
        f"queue:{q}:{c}" for q in (world.queue.id, world.queue2.id) for c in (web, whatsapp.id)}
    assert set(keys["auditor"]) - set(keys["supervisor"]) == {f"staff:{world.auditor.id}"}
    other_default = Queue.objects.get(line_of_business=world.other_lob, is_default=True)
    assert set(keys["outsider"]) == {f"staff:{world.outsider.id}", f"queue:{other_default.id}:{web}"}


def _frames_until(ws, kind: str, within: float) -> list[dict]:
    """Frames read until one of type `kind` (the last of the list); fails after `within` s."""
    frames, deadline = [], time.monotonic() + within
    while not frames or frames[-1]["type"] != kind:
        frames.append(json.loads(ws.recv(max(0.01, deadline - time.monotonic()))))
    return frames


def test_a_new_queue_membership_reaches_open_sockets_at_the_next_recheck(live, world):
    world.loans.queue = world.queue2
    world.loans.save(update_fields=["queue"])
    with connect(live.ws_url, additional_headers={"Cookie": staff_cookie(world.agent), "Origin": live.url}) as ws:
        ws.send(json.dumps({"type": "hello"}))
        assert json.loads(ws.recv(5))["type"] == "ready"
        before = _waiting(world, topic=world.loans)  # not theirs yet: nothing of it reaches them
        QueueMember.objects.create(queue=world.queue2, user=world.agent)
        frames = _frames_until(ws, "queues.changed", 10)  # the re-check runs every second in tests
        assert [f for f in frames if f.get("conversation", {}).get("id") == before
                or f.get("message", {}).get("conversation_id") == before] == []
        after = _waiting(world, topic=world.loans)
        created = _frames_until(ws, "message.created", 5)[-1]
        assert created["message"]["conversation_id"] == after


def test_forbidden_is_what_staff_who_see_it_get(world):
    cid = _waiting(world)
    with pytest.raises(Forbidden) as refused:
        actions.conversation_queue_set(principal=principal(world.auditor), conversation_id=cid,
                                       queue_id=world.queue2.id)
    assert refused.value.code == "role_read_only"


# --- auto-close (an injected clock, never a sleep) ----------------------------------------------

def test_a_conversation_without_a_customer_message_for_its_channels_hours_closes(world, capture_events):
    from datetime import timedelta

    from django.utils import timezone

    customer = factories.customer()
    cid = _waiting(world, customer=customer)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=cid)
    wrote_at = Conversation.objects.get(pk=cid).customer_active_at
    # The agent writing does not keep it open; the customer writing does.
    actions.staff_message_send(principal=principal(world.agent), conversation_id=cid, body="Anything else?",
                               client_message_id="a-1")
    assert Conversation.objects.get(pk=cid).customer_active_at == wrote_at
    assert actions.conversations_close_inactive(now=wrote_at + timedelta(hours=23, minutes=59)) == 0
    client = factories.staff_browser(world.agent)
    closes = client.get(f"/api/staff/conversations/{cid}").json()["closes_at"]
    assert closes == (wrote_at + timedelta(hours=24)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    # Twenty hours on, the customer writes again: the day starts over from that message.
    Conversation.objects.filter(pk=cid).update(customer_active_at=timezone.now() - timedelta(hours=20))
    before = timezone.now()
    actions.customer_message_send(principal=principal(customer), body="Still there?", client_message_id="c-late")
    moved = Conversation.objects.get(pk=cid).customer_active_at
    assert moved >= before
    assert actions.conversations_close_inactive(now=moved + timedelta(hours=5)) == 0
    with capture_events() as events:
        assert actions.conversations_close_inactive(now=moved + timedelta(hours=24, seconds=1)) == 1
        assert actions.conversations_close_inactive(now=moved + timedelta(hours=48)) == 0  # idempotent
    conversation = Conversation.objects.get(pk=cid)
    assert (conversation.state, conversation.end_reason) == (ConversationState.ENDED, EndReason.INACTIVE)
    line = Message.objects.get(conversation_id=cid, system_code=SystemCode.AUTO_CLOSED)
    assert (line.visibility, line.text()) == ("public", "The conversation was closed after 24 hours without a message.")
    assert {e["t"] for e in events} == {"message.created", "conversation.updated", "queue.left"}
    assert client.get(f"/api/staff/conversations/{cid}").json()["closes_at"] is None


def test_auto_close_follows_each_channels_hours_and_zero_means_never(world):
    from datetime import timedelta

    cid = _waiting(world)
    started = Conversation.objects.get(pk=cid).customer_active_at
    web = channel_web()
    web.auto_close_hours = 0
    web.save(update_fields=["auto_close_hours"])
    assert actions.conversations_close_inactive(now=started + timedelta(days=30)) == 0
    web.auto_close_hours = 2
    web.save(update_fields=["auto_close_hours"])
    assert actions.conversations_close_inactive(now=started + timedelta(hours=1, minutes=59)) == 0
    assert actions.conversations_close_inactive(now=started + timedelta(hours=2, seconds=1)) == 1
    line = Message.objects.get(conversation_id=cid, system_code=SystemCode.AUTO_CLOSED)
    assert line.text() == "The conversation was closed after 2 hours without a message."


def test_having_taken_part_is_not_enough_to_move_reject_or_bar_what_waits_elsewhere(world):
    cid = _waiting(world)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=cid)
    actions.conversation_queue_set(principal=principal(world.agent), conversation_id=cid, queue_id=world.queue2.id)
    agent = principal(world.agent)  # took part in it, does not serve Mortgages
    for act in (lambda: actions.conversation_queue_set(principal=agent, conversation_id=cid, queue_id=world.queue.id),
                lambda: actions.conversation_reject(principal=agent, conversation_id=cid, rejection="spam"),
                lambda: actions.customer_bar(principal=agent, conversation_id=cid, reason="Spam")):
        with pytest.raises(Forbidden) as refused:
            act()
        assert refused.value.code == "not_serving"
    assert Conversation.objects.get(pk=cid).state == ConversationState.WAITING


def test_a_membership_of_another_lines_queue_opens_no_socket_audience(world):
    other_queue = Queue.objects.get(line_of_business=world.other_lob, is_default=True)
    QueueMember.objects.create(queue=other_queue, user=world.agent)  # as a bank-wide admin might
    (keys,) = handlers.audiences_of([principal(world.agent)])
    assert not any(key.startswith(f"queue:{other_queue.id}:") for key in keys)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        QueueMember(queue=other_queue, user=world.agent2).full_clean()


def test_a_socket_keeps_open_only_what_its_member_of_staff_may_still_see(world):
    cid = _waiting(world)
    other = _waiting(world)
    key, gone = f"viewers:{cid}", f"viewers:{other}"
    actions.conversation_accept(principal=principal(world.agent2), conversation_id=other)  # out of agent's sight
    assert handlers.still_visible([principal(world.agent)], [(key, gone)]) == [(key,)]
    # Leaving one no longer in sight is quietly done; opening it is refused.
    from branchline.conversations.schemas import ViewingFrame

    handlers._viewing(principal(world.agent), ViewingFrame(conversation_id=other, is_viewing=False))
    with pytest.raises(NotFound):
        handlers._viewing(principal(world.agent), ViewingFrame(conversation_id=other, is_viewing=True))
