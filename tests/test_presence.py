"""Who else is here (issue 8, docs/protocol.md §7): staff who have a conversation open in the
console hear who else has it open and who of them types; nothing of it reaches the customer or
staff who may not see the conversation."""
import json
import time

import pytest
from websockets.sync.client import connect

from branchline.conversations import actions
from branchline.core.errors import Forbidden, NotFound
from tests import factories
from tests.factories import principal
from tests.test_socket import staff_cookie

pytestmark = pytest.mark.django_db


def _conversation(world):
    customer = factories.customer()
    first, _ = actions.customer_message_send(principal=principal(customer), body="Hello", client_message_id="c-1",
                                             topic_id=world.topic.id)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=first.conversation_id)
    return customer, first.conversation_id


def test_viewing_is_told_only_to_the_conversations_viewers(world, capture_events):
    customer, cid = _conversation(world)
    with capture_events() as events:
        actions.staff_viewing(principal=principal(world.supervisor), conversation_id=cid, is_viewing=True)
    assert [(e["t"], e["a"], e["d"]) for e in events] == [("presence", [f"viewers:{cid}"], {
        "conversation_id": cid, "user": {"id": world.supervisor.id, "name": world.supervisor.display_name},
        "viewing": True, "again": False})]
    with capture_events() as typing:
        actions.typing_signal(principal=principal(world.agent), conversation_id=cid, is_typing=True)
    staff_typing = [e["a"] for e in typing if "author" in e["d"]]
    assert staff_typing == [[f"viewers:{cid}"]]  # the agent is the only watcher, and the typist
    for who, error, code in ((principal(customer), Forbidden, "staff_only"),
                             (principal(world.outsider), NotFound, "conversation_not_found"),
                             (principal(world.agent2), NotFound, "conversation_not_found")):
        with pytest.raises(error) as refused:
            actions.staff_viewing(principal=who, conversation_id=cid, is_viewing=True)
        assert refused.value.code == code


def _frames_until(ws, accept, within: float) -> dict:
    deadline = time.monotonic() + within
    while True:
        frame = json.loads(ws.recv(max(0.01, deadline - time.monotonic())))
        if accept(frame):
            return frame


def test_two_consoles_on_one_conversation_hear_each_other(live, world):
    _customer, cid = _conversation(world)

    def console(user):
        ws = connect(live.ws_url, additional_headers={"Cookie": staff_cookie(user), "Origin": live.url})
        ws.send(json.dumps({"type": "hello"}))
        assert json.loads(ws.recv(5))["type"] == "ready"
        return ws

    with console(world.agent) as anna, console(world.supervisor) as olga, console(world.agent2) as other:
        anna.send(json.dumps({"type": "viewing", "conversation_id": cid, "is_viewing": True}))
        anna.send(json.dumps({"type": "ping", "ref": "joined"}))  # a socket's frames are served in order
        _frames_until(anna, lambda f: f["type"] == "pong", 5)
        olga.send(json.dumps({"type": "viewing", "conversation_id": cid, "is_viewing": True}))
        olga.send(json.dumps({"type": "ping", "ref": "joined"}))
        _frames_until(olga, lambda f: f["type"] == "pong", 5)
        told = _frames_until(anna, lambda f: f["type"] == "presence", 5)
        assert (told["user"]["id"], told["viewing"], told["again"]) == (world.supervisor.id, True, False)
        anna.send(json.dumps({"type": "typing", "conversation_id": cid, "is_typing": True}))
        typing = _frames_until(olga, lambda f: f["type"] == "typing", 5)  # olga has not joined: she views
        assert typing["author"]["id"] == world.agent.id
        # Someone who may not see it cannot listen in.
        other.send(json.dumps({"type": "viewing", "conversation_id": cid, "is_viewing": True, "ref": "v"}))
        refused = _frames_until(other, lambda f: f["type"] == "error", 5)
        assert (refused["ref"], refused["error"]["code"]) == ("v", "conversation_not_found")
        olga.send(json.dumps({"type": "viewing", "conversation_id": cid, "is_viewing": False}))
        left = _frames_until(anna, lambda f: f["type"] == "presence" and not f["viewing"], 5)
        assert left["user"]["id"] == world.supervisor.id
