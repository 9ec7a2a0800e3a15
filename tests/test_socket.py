"""The socket against the real ASGI app under uvicorn (in a thread of this process)."""
import asyncio
import itertools
import json
import statistics
import time
from datetime import timedelta

import httpx
import pytest
import websockets
from django.test import Client
from django.utils import timezone
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from branchline.accounts.actions import customer_session_start
from branchline.accounts.models import IpAllowList, WebSession
from branchline.accounts.staff_sessions import ACTIVE_AT, SessionStore
from branchline.conversations import actions
from branchline.conversations.models import Conversation, Message
from tests import factories
from tests.factories import principal
from tests.support.servers import staff_sign_in

pytestmark = pytest.mark.django_db(transaction=True)


class Peer:
    """A socket client that keeps every frame it received."""

    def __init__(self, live, token=None, cookie=None, origin=None, resume=None, **options):
        headers = {}
        if cookie:
            headers["Cookie"] = cookie
            headers["Origin"] = origin or live.url
        self.ws = connect(live.ws_url, additional_headers=headers, open_timeout=5, **options)
        hello = {"type": "hello", **({"token": token} if token else {}), **({"resume": resume} if resume else {})}
        self.ws.send(json.dumps(hello))
        self.frames = []

    def next(self, timeout=5.0):
        frame = json.loads(self.ws.recv(timeout=timeout))
        self.frames.append(frame)
        return frame

    def until(self, predicate, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frame = self.next(max(0.01, deadline - time.monotonic()))
            if predicate(frame):
                return frame
        raise AssertionError(f"no matching frame; got {self.frames[-5:]}")

    def quiet(self, seconds=0.3):
        """Frames that arrive within `seconds` (to prove nothing else comes)."""
        got = []
        try:
            while True:
                got.append(self.next(seconds))
        except TimeoutError:
            return got

    def send(self, **frame):
        self.ws.send(json.dumps(frame))

    def messages(self, conversation_id=None):
        return [f["message"] for f in self.frames if f["type"] == "message.created"
                and (conversation_id is None or f["message"]["conversation_id"] == conversation_id)]

    def close(self):
        self.ws.close()


def staff_cookie(user):
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def is_message(seq):
    return lambda f: f["type"] == "message.created" and f["message"]["seq"] == seq


@pytest.fixture
def chat(live, world):
    """A guest whose conversation anna (world.agent) has taken, both connected."""
    customer, token = factories.customer_with_token()
    m, _ = actions.customer_message_send(principal=principal(customer), body="Hi", client_message_id="c0",
                                         topic_id=world.topic.id)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=m.conversation_id)
    cust = Peer(live, token=token, resume={str(m.conversation_id): 2})
    agent = Peer(live, cookie=staff_cookie(world.agent), resume={str(m.conversation_id): 2})
    assert cust.next()["type"] == "ready" and agent.next()["type"] == "ready"
    yield type("Chat", (), {"customer": customer, "token": token, "cid": m.conversation_id, "cust": cust,
                            "agent": agent, "world": world, "live": live})
    cust.close()
    agent.close()


def test_messages_flow_live_both_ways_and_acks_follow_commit(chat):
    chat.cust.send(type="message.send", body="My card is blocked", client_message_id="c1", ref="r1")
    ack = chat.cust.until(lambda f: f["type"] == "message.ack")
    assert ack["ref"] == "r1" and ack["message"]["seq"] == 3 and not ack["duplicate"]
    assert Message.objects.filter(pk=ack["message"]["id"]).exists()  # acknowledged = committed
    assert chat.agent.until(is_message(3))["message"]["text"] == "My card is blocked"
    chat.agent.send(type="message.send", conversation_id=chat.cid, body="Unblocked.", client_message_id="a1")
    assert chat.cust.until(is_message(4))["message"]["agent_name"] == chat.world.agent.display_name


def test_a_message_looks_the_same_over_the_socket_and_the_api(chat, client):
    chat.cust.send(type="message.send", body="Same everywhere", client_message_id="c1")
    to_staff = chat.agent.until(is_message(3))["message"]
    to_customer = chat.cust.until(lambda f: f["type"] == "message.ack")["message"]
    page = client.get("/api/customer/messages", HTTP_AUTHORIZATION=f"Bearer {chat.token}").json()
    assert page["messages"][-1] == to_customer and "staff_seq" not in to_customer
    client.force_login(chat.world.agent)
    staff_page = client.get(f"/api/staff/conversations/{chat.cid}/messages").json()
    assert staff_page["messages"][-1] == to_staff and to_staff["staff_seq"] == 3


def test_a_retried_socket_send_is_a_no_op(chat):
    for _ in range(3):
        chat.cust.send(type="message.send", body="Once", client_message_id="same-id")
    acks = [chat.cust.until(lambda f: f["type"] == "message.ack") for _ in range(3)]
    assert [a["duplicate"] for a in acks] == [False, True, True]
    assert len({a["message"]["id"] for a in acks}) == 1
    chat.agent.until(is_message(3))
    assert not [f for f in chat.agent.quiet() if f["type"] == "message.created"]
    assert Message.objects.filter(client_message_id="same-id").count() == 1


def test_typing_and_receipts_reach_the_other_side(chat):
    chat.cust.send(type="typing", conversation_id=chat.cid, is_typing=True)
    typing = chat.agent.until(lambda f: f["type"] == "typing")
    assert (typing["sender"], typing["is_typing"]) == ("customer", True)
    chat.agent.send(type="receipt", conversation_id=chat.cid, read_seq=2)
    receipt = chat.cust.until(lambda f: f["type"] == "receipt.updated")
    assert (receipt["side"], receipt["read_seq"], receipt["delivered_seq"]) == ("agent", 2, 2)


def test_a_reconnecting_client_gets_exactly_what_it_missed(chat):
    chat.cust.close()
    for n in range(3):
        actions.staff_message_send(principal=principal(chat.world.agent), conversation_id=chat.cid, body=f"m{n}",
                                   client_message_id=f"a{n}")
    back = Peer(chat.live, token=chat.token, resume={str(chat.cid): 2})
    assert back.next()["type"] == "ready"
    got = [back.until(lambda f: f["type"] == "message.created")["message"] for _ in range(3)]
    assert [(m["seq"], m["text"]) for m in got] == [(3, "m0"), (4, "m1"), (5, "m2")]
    assert not [f for f in back.quiet() if f["type"] == "message.created"]
    back.close()


def test_resume_of_someone_elses_conversation_is_refused_and_leaks_nothing(live, chat):
    _stranger, token = factories.customer_with_token()
    peer = Peer(live, token=token, resume={str(chat.cid): 0, "999999": 0})
    ready = peer.next()
    assert ready["type"] == "ready" and ready["rejected_resume"] == sorted([chat.cid, 999999])
    chat.agent.send(type="message.send", conversation_id=chat.cid, body="private", client_message_id="p1")
    chat.cust.until(is_message(3))
    peer.send(type="resume", conversation_id=chat.cid, after_seq=0)
    error = peer.until(lambda f: f["type"] == "error")
    assert error["error"]["code"] == "conversation_not_found"
    assert not [f for f in peer.frames + peer.quiet() if f["type"] != "ready" and f["type"] != "error"]
    peer.close()


def test_customers_only_ever_receive_their_own_customer_side_events(live, chat):
    _other, token = factories.customer_with_token()
    bystander = Peer(live, token=token)
    bystander.next()
    chat.cust.send(type="message.send", body="hello", client_message_id="c1")
    chat.cust.send(type="typing", conversation_id=chat.cid, is_typing=True)
    chat.agent.send(type="message.send", conversation_id=chat.cid, body="hi", client_message_id="a1")
    chat.agent.send(type="typing", conversation_id=chat.cid, is_typing=True)
    chat.agent.until(is_message(3))
    chat.cust.until(is_message(4))
    # a second guest starts a conversation: staff-side events about it must not reach anyone else's socket
    actions.customer_message_send(principal=principal(factories.customer()), body="mine", client_message_id="o1",
                                  topic_id=chat.world.topic.id)
    chat.cust.quiet(0.5)
    assert bystander.quiet(0.5) == []  # not a single frame about anyone else
    for frame in chat.cust.frames:
        if frame["type"] == "message.created":
            assert frame["message"]["conversation_id"] == chat.cid
        if frame["type"] == "conversation.updated":
            assert "unread_count" not in frame["conversation"] and "case_id" not in frame["conversation"]
        if frame["type"] == "typing":
            assert frame["sender"] == "agent"
    bystander.close()


@pytest.mark.parametrize("raw,code", [
    ("not json", "frame_not_json"),
    ("[1, 2]", "frame_invalid"),
    ('{"no": "type"}', "frame_invalid"),
    ('{"type": "launch.rockets"}', "unknown_type"),
    ('{"type": "message.send", "body": "", "client_message_id": "x"}', "message_empty"),
    ('{"type": "message.send", "body": "hi", "client_message_id": "bad id"}', "client_message_id_invalid"),
    ('{"type": "typing", "conversation_id": "abc", "is_typing": true}', "invalid"),  # the schema: not an id
    ('{"type": "receipt", "conversation_id": 1, "read_seq": -3}', None),
])
def test_bad_frames_get_errors_and_the_socket_keeps_working(chat, raw, code):
    chat.cust.ws.send(raw)
    error = chat.cust.until(lambda f: f["type"] == "error")
    if code:
        assert error["error"]["code"] == code
    chat.cust.send(type="ping", ref="still-there")
    assert chat.cust.until(lambda f: f["type"] == "pong")["ref"] == "still-there"
    assert Message.objects.count() == 2


def test_oversize_and_binary_frames_are_refused(chat):
    chat.cust.send(type="message.send", body="x" * 20000, client_message_id="big")
    assert chat.cust.until(lambda f: f["type"] == "error")["error"]["code"] == "frame_too_large"
    chat.cust.ws.send(b"\x00\x01binary")
    assert chat.cust.until(lambda f: f["type"] == "error")["error"]["code"] == "frame_not_text"
    # the other side never noticed
    chat.agent.send(type="ping", ref=1)
    assert chat.agent.until(lambda f: f["type"] == "pong")["ref"] == 1
    assert Message.objects.count() == 2


def test_a_client_sending_too_fast_is_rate_limited(chat, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "FRAME_RATE_PER_SECOND": 2, "FRAME_RATE_BURST": 5}
    fresh = Peer(chat.live, token=chat.token)
    fresh.next()
    for n in range(12):
        fresh.send(type="ping", ref=n)
    answers = [fresh.until(lambda f: f["type"] in ("pong", "error")) for _ in range(12)]
    limited = [a for a in answers if a["type"] == "error"]
    assert limited and all(a["error"]["code"] == "rate_limited" and a["error"]["retry_after"] > 0 for a in limited)
    assert sorted(a["ref"] for a in answers) == list(range(12))  # every refusal names its request
    assert sum(a["type"] == "pong" for a in answers) >= 5
    fresh.close()


def test_sockets_without_a_valid_sign_in_are_closed(live, world):
    for hello in ({"type": "hello", "token": "forged"}, {"type": "hello"}, {"type": "ping"}):
        ws = connect(live.ws_url)
        ws.send(json.dumps(hello))
        error = json.loads(ws.recv(timeout=5))
        assert error["type"] == "error" and error["error"]["code"] in ("unauthorized", "hello_required")
        with pytest.raises(Exception):
            ws.recv(timeout=5)
        assert ws.close_code == 4401
    # a staff cookie from a foreign page (cross-site socket hijacking) is refused
    ws = connect(live.ws_url, additional_headers={"Cookie": staff_cookie(world.agent), "Origin": "https://evil.example"})
    ws.send(json.dumps({"type": "hello"}))
    assert json.loads(ws.recv(timeout=5))["error"]["code"] == "origin_not_allowed"


def test_a_gone_guest_conversation_ends_after_the_grace_period(chat):
    chat.cust.close()
    ended = chat.agent.until(lambda f: f["type"] == "message.created" and f["message"]["system_code"] == "customer_left",
                             timeout=10)
    assert ended["message"]["seq"] == 3
    assert Conversation.objects.get(pk=chat.cid).state == "ended"
    chat.agent.send(type="message.send", conversation_id=chat.cid, body="Are you there?", client_message_id="late")
    assert chat.agent.until(lambda f: f["type"] == "error")["error"]["code"] == "conversation_not_active"


def test_a_guest_who_comes_back_within_the_grace_period_keeps_the_conversation(chat):
    chat.cust.close()
    back = Peer(chat.live, token=chat.token, resume={str(chat.cid): 2})
    assert back.next()["type"] == "ready"
    time.sleep(3.5)  # longer than the 2 s test grace period
    assert Conversation.objects.get(pk=chat.cid).state == "active"
    back.close()


def test_signing_out_closes_the_customers_open_sockets(chat):
    from branchline.accounts.actions import customer_session_end

    customer_session_end(token=chat.token)
    error = chat.cust.until(lambda f: f["type"] == "error", timeout=10)
    assert error["error"]["code"] == "unauthorized"
    with pytest.raises(Exception):
        chat.cust.next(5)
    assert chat.cust.ws.close_code == 4401


def test_notes_and_a_transfer_over_the_socket_never_reach_the_customers_socket(chat):
    """Staff-only items travel the staff stream only: the customer's socket frames hold no
    note, no transfer line and no staff number, and its own stream has no hole."""
    world = chat.world
    receiver = Peer(chat.live, cookie=staff_cookie(world.agent2))
    assert receiver.next()["type"] == "ready"
    chat.agent.send(type="message.send", conversation_id=chat.cid, body="Secret note", client_message_id="n1",
                    visibility="staff", ref="n")
    ack = chat.agent.until(lambda f: f["type"] == "message.ack")["message"]
    assert (ack["kind"], ack["visibility"], ack["seq"], ack["staff_seq"]) == ("note", "staff", None, 3)
    chat.agent.send(type="conversation.transfer", conversation_id=chat.cid, to_user_id=world.agent2.id,
                    note="Card blocked, see note", ref="t")
    assert chat.agent.until(lambda f: f["type"] == "action.ack")["ref"] == "t"
    # the receiver hears it live: the staff-only transfer line (with its note), then the public join
    transfer = receiver.until(lambda f: f["type"] == "message.created" and f["message"]["staff_seq"] == 5)
    assert transfer["message"]["system_code"] == "agent_joined"
    receiver.send(type="message.send", conversation_id=chat.cid, body="Hello, Ben here", client_message_id="b1")
    shown = chat.cust.until(lambda f: f["type"] == "message.created" and f["message"]["text"] == "Hello, Ben here")
    assert shown["message"]["seq"] == 4  # 3 was "Ben joined": no hole where the note and transfer line were
    chat.cust.quiet(0.3)  # anything leaking late would arrive now
    everything = json.dumps(chat.cust.frames)
    assert "Secret note" not in everything and "see note" not in everything and "staff_seq" not in everything
    assert [f["message"]["seq"] for f in chat.cust.frames if f["type"] == "message.created"] == [3, 4]
    receiver.close()


@pytest.mark.parametrize("conversation_id", [[1], {"id": 1}, None, True, 1.5, "abc", str(2**63), 2**63, -1, 0])
def test_a_resume_naming_anything_but_one_conversation_id_is_refused(chat, conversation_id):
    chat.cust.send(type="resume", conversation_id=conversation_id, after_seq=0, ref="r")
    error = chat.cust.until(lambda f: f["type"] == "error")
    assert (error["error"]["code"], error["ref"]) == ("resume_invalid", "r")
    chat.cust.send(type="ping", ref="still-there")
    assert chat.cust.until(lambda f: f["type"] == "pong")["ref"] == "still-there"


@pytest.mark.parametrize("after_seq", [None, -1, 2**63, 10**30, "3", 1.5, True, [2]])
def test_a_resume_with_anything_but_a_seq_is_refused(chat, after_seq):
    chat.cust.send(type="resume", conversation_id=chat.cid, after_seq=after_seq, ref="r")
    error = chat.cust.until(lambda f: f["type"] == "error")
    assert (error["error"]["code"], error["ref"]) == ("resume_invalid", "r")
    chat.cust.send(type="ping", ref="still-there")
    assert chat.cust.until(lambda f: f["type"] == "pong")["ref"] == "still-there"


@pytest.mark.parametrize("resume", [{str(2**63): 0}, {"9" * 40: 0}, {"abc": 0}, {"": 0}, {"1e3": 0}, {"-5": 0},
                                    {"1": 2**63}, {"1": 10**30}, {"1": "3"}, {"1": None}, [1, 2], "1"])
def test_a_hello_whose_resume_is_not_ids_to_seqs_is_refused(live, world, resume):
    _customer, token = factories.customer_with_token()
    ws = connect(live.ws_url)
    ws.send(json.dumps({"type": "hello", "token": token, "resume": resume}))
    error = json.loads(ws.recv(timeout=5))
    assert error["type"] == "error" and error["error"]["code"] == "resume_invalid"
    with pytest.raises(Exception):
        ws.recv(timeout=5)
    assert ws.close_code == 1008


def test_a_flooding_client_gets_every_answer_then_a_clean_1008(chat, settings):
    """Past 5 x burst refusals in a row the socket closes 1008, after the answers already
    queued (they name what was refused) and with a close handshake, not a dropped connection."""
    settings.BRANCHLINE = {**settings.BRANCHLINE, "FRAME_RATE_PER_SECOND": 0.5, "FRAME_RATE_BURST": 4}
    flood = Peer(chat.live, token=chat.token, max_queue=None)  # keeps reading while the test sends
    assert flood.next()["type"] == "ready"
    with pytest.raises(ConnectionClosed):
        for n in range(10_000):  # sent without reading anything back, until the server closes
            flood.send(type="ping", ref=n)
    answers = []
    with pytest.raises(ConnectionClosed):
        while True:
            answers.append(flood.next())
    assert flood.ws.close_code == 1008
    pongs = [a["ref"] for a in answers if a["type"] == "pong"]
    refused = [a["ref"] for a in answers if a["type"] == "error" and a["error"]["code"] == "rate_limited"]
    assert pongs == [0, 1, 2, 3]
    assert refused == list(range(4, 4 + 20))  # every refusal before the close, then nothing
    assert len(answers) == 24


def _hello(live, token, source="127.0.0.1"):
    """Open a socket from `source` (any 127.x address) and send hello; return it and its first frame."""
    ws = connect(live.ws_url, open_timeout=5, source_address=(source, 0))
    try:
        ws.send(json.dumps({"type": "hello", "token": token}))
    except ConnectionClosed:
        pass  # refused as soon as it opened: the error is waiting to be read
    return ws, json.loads(ws.recv(timeout=5))


def _refused_as_too_many(ws, first):
    assert first["type"] == "error" and first["error"]["code"] == "too_many_sockets"
    with pytest.raises(ConnectionClosed):
        ws.recv(timeout=5)
    return ws.close_code


def _eventually_ready(live, token, source="127.0.0.1", timeout=3.0):
    """A socket closed by its client is released by the server a moment later."""
    deadline = time.monotonic() + timeout
    while True:
        ws, first = _hello(live, token, source)
        if first["type"] == "ready" or time.monotonic() > deadline:
            assert first["type"] == "ready", first
            return ws
        ws.close()
        time.sleep(0.05)


def test_sockets_per_customer_and_per_staff_member_are_capped(live, world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "SOCKETS_PER_CUSTOMER": 2, "SOCKETS_PER_STAFF": 3}
    _customer, token = factories.customer_with_token()
    _other, other_token = factories.customer_with_token()
    open_ = [_hello(live, token)[0] for _ in range(2)]
    ws, first = _hello(live, token)
    assert _refused_as_too_many(ws, first) == 4429
    assert _hello(live, other_token)[1]["type"] == "ready"  # another customer is not affected
    open_[0].close()
    open_[0] = _eventually_ready(live, token)  # a closed socket frees its place
    cookie = staff_cookie(world.agent)
    staff = [Peer(live, cookie=cookie) for _ in range(3)]
    assert [p.next()["type"] for p in staff] == ["ready"] * 3
    extra = Peer(live, cookie=cookie)
    assert extra.next()["error"]["code"] == "too_many_sockets"
    with pytest.raises(ConnectionClosed):
        extra.next()
    assert extra.ws.close_code == 4429
    for ws in open_:
        ws.close()
    for peer in staff:
        peer.close()


def test_sockets_per_client_address_are_capped(live, world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "SOCKETS_PER_ADDRESS": 3}
    tokens = [factories.customer_with_token()[1] for _ in range(4)]
    open_ = [_hello(live, token, "127.0.0.3") for token in tokens[:3]]
    assert [first["type"] for _ws, first in open_] == ["ready"] * 3
    ws, first = _hello(live, tokens[3], "127.0.0.3")
    assert _refused_as_too_many(ws, first) == 4429
    assert _hello(live, tokens[3], "127.0.0.4")[1]["type"] == "ready"  # another address is not affected
    open_[0][0].close()
    _eventually_ready(live, tokens[3], "127.0.0.3").close()
    for ws, _first in open_[1:]:
        ws.close()


def _closed_as_signed_out(peer, within):
    assert peer.next(within)["error"]["code"] == "unauthorized"
    with pytest.raises(ConnectionClosed):
        peer.next(within)
    return peer.ws.close_code


def test_a_customer_signing_out_over_http_closes_that_sessions_sockets_at_once(live, world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "SIGN_IN_RECHECK_SECONDS": 3600}  # no periodic re-check
    customer = factories.customer(authenticated=True)
    token, other_device = customer_session_start(customer=customer), customer_session_start(customer=customer)
    phone, widget, tablet = Peer(live, token=token), Peer(live, token=token), Peer(live, token=other_device)
    assert [p.next()["type"] for p in (phone, widget, tablet)] == ["ready"] * 3
    answer = httpx.delete(f"{live.url}/api/customer/session", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert answer.status_code == 204
    signed_out = time.monotonic()
    assert [_closed_as_signed_out(p, 1.0) for p in (phone, widget)] == [4401, 4401]
    assert time.monotonic() - signed_out < 1.0
    tablet.send(type="ping", ref="still-signed-in")  # the same customer's other sign-in stays open
    assert tablet.until(lambda f: f["type"] in ("pong", "error"))["type"] == "pong"
    tablet.close()


def _staff_sign_in(live, user) -> httpx.Client:
    http = httpx.Client(base_url=live.url, timeout=5)
    assert staff_sign_in(http, user.username, factories.PASSWORD).status_code == 200
    return http


def test_a_member_of_staff_signing_out_over_http_closes_that_sessions_sockets_at_once(live, world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "SIGN_IN_RECHECK_SECONDS": 3600}
    desk, laptop = _staff_sign_in(live, world.agent), _staff_sign_in(live, world.agent)
    on_desk = [Peer(live, cookie=f"sessionid={desk.cookies['sessionid']}") for _ in range(2)]
    on_laptop = Peer(live, cookie=f"sessionid={laptop.cookies['sessionid']}")
    assert [p.next()["type"] for p in (*on_desk, on_laptop)] == ["ready"] * 3
    answer = desk.delete("/api/staff/session", headers={"X-CSRFToken": desk.cookies["csrftoken"]})
    assert answer.status_code == 204
    signed_out = time.monotonic()
    assert [_closed_as_signed_out(p, 1.0) for p in on_desk] == [4401, 4401]
    assert time.monotonic() - signed_out < 1.0
    on_laptop.send(type="ping", ref="still-signed-in")
    assert on_laptop.until(lambda f: f["type"] in ("pong", "error"))["type"] == "pong"
    on_laptop.close()
    desk.close()
    laptop.close()


def test_a_sign_in_that_expires_is_closed_by_the_periodic_re_check(live, world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "CUSTOMER_TOKEN_HOURS": 1.5 / 3600}  # 1.5 s; re-checked every 1 s
    peer = Peer(live, token=factories.customer_with_token()[1])
    assert peer.next()["type"] == "ready"
    assert _closed_as_signed_out(peer, 5.0) == 4401


def _waiting_conversation(world, messages: int) -> int:
    customer = factories.customer()
    for i in range(messages):
        message, _ = actions.customer_message_send(principal=principal(customer), body=f"m{i} " + "x" * 3000,
                                                   client_message_id=f"c{i}", topic_id=world.topic.id)
    return message.conversation_id


def test_a_flood_of_resumes_gets_no_more_than_the_resume_budget_and_others_stay_fast(live, world, settings):
    """A client replays `resume` at the frame rate limit, round the conversations it may
    see, from 0: the items re-sent from the database stay within RESUME_ITEMS_BURST +
    RESUME_ITEMS_PER_SECOND x the time, and another client's ping stays fast meanwhile."""
    burst, rate = 100, 100
    settings.BRANCHLINE = {**settings.BRANCHLINE, "FRAME_RATE_PER_SECOND": 20, "FRAME_RATE_BURST": 60,
                           "RESUME_ITEMS_BURST": burst, "RESUME_ITEMS_PER_SECOND": rate, "RESUME_PAGE_ITEMS": 50}
    cids = [_waiting_conversation(world, 250) for _ in range(3)]  # in the agent's queue: visible to them
    flood_for, cookie, token = 3.0, staff_cookie(world.agent), factories.customer_with_token()[1]

    async def scenario():
        flooder = await websockets.connect(live.ws_url, additional_headers={"Cookie": cookie, "Origin": live.url})
        bystander = await websockets.connect(live.ws_url)
        await flooder.send(json.dumps({"type": "hello"}))
        await bystander.send(json.dumps({"type": "hello", "token": token}))
        assert json.loads(await flooder.recv())["type"] == json.loads(await bystander.recv())["type"] == "ready"
        received, refused, rtts = [], [], []

        async def read():
            async for text in flooder:
                frame = json.loads(text)
                (received if frame["type"] == "message.created" else refused).append(frame)

        async def ping():
            for n in itertools.count():
                sent = time.perf_counter()
                await bystander.send(json.dumps({"type": "ping", "ref": n}))
                assert json.loads(await bystander.recv())["ref"] == n
                rtts.append(time.perf_counter() - sent)
                await asyncio.sleep(0.02)

        reader, pinger = asyncio.create_task(read()), asyncio.create_task(ping())
        started = time.monotonic()
        for n in range(int(flood_for * 20)):  # 20 frames/s: none refused by the frame rate limit
            await flooder.send(json.dumps({"type": "resume", "conversation_id": cids[n % 3], "after_seq": 0}))
            await asyncio.sleep(max(0.0, started + (n + 1) / 20 - time.monotonic()))
        await asyncio.sleep(0.5)  # what was allowed by now arrives
        elapsed = time.monotonic() - started
        count = len(received)
        pinger.cancel()
        reader.cancel()
        await flooder.close()
        await bystander.close()
        return count, refused, elapsed, rtts

    count, refused, elapsed, rtts = asyncio.run(scenario())
    assert refused == []
    assert burst <= count <= burst + rate * elapsed  # without the budget: 60 resumes x 250 items
    assert len(rtts) > 50
    median, p90 = statistics.median(rtts), statistics.quantiles(rtts, n=10)[-1]
    assert median < 0.005 and p90 < 0.02, (median, p90)  # without the budget, here: about 7 and 57 ms


def test_a_backlog_larger_than_the_send_queue_arrives_in_pages_in_order(live, world, settings):
    """Resumed items are read a page at a time, the next page once the socket has sent
    the last: a backlog far beyond the send queue arrives whole instead of closing 1013."""
    settings.BRANCHLINE = {**settings.BRANCHLINE, "SOCKET_SEND_QUEUE_MAX": 30, "RESUME_PAGE_ITEMS": 10}
    cid = _waiting_conversation(world, 120)
    agent = Peer(live, cookie=staff_cookie(world.agent), resume={str(cid): 0})
    assert agent.next()["type"] == "ready"
    got = [agent.until(lambda f: f["type"] == "message.created")["message"]["staff_seq"] for _ in range(120)]
    assert got == list(range(1, 121))
    agent.send(type="ping", ref="open")
    assert agent.until(lambda f: f["type"] == "pong")["ref"] == "open"
    agent.close()


def test_a_resume_never_rewinds_a_cursor(chat):
    """Everything up to a socket's cursor has been queued on it already: a resume at or
    below it re-sends nothing; one beyond it skips what the client says it has."""
    for n in range(3):
        actions.staff_message_send(principal=principal(chat.world.agent), conversation_id=chat.cid, body=f"m{n}",
                                   client_message_id=f"a{n}")
    chat.cust.until(is_message(5))
    chat.cust.send(type="resume", conversation_id=chat.cid, after_seq=0)
    chat.cust.send(type="resume", conversation_id=chat.cid, after_seq=5)
    chat.cust.send(type="ping", ref="after")
    chat.cust.until(lambda f: f["type"] == "pong")
    assert not [f for f in chat.cust.quiet() if f["type"] == "message.created"]
    assert [m["seq"] for m in chat.cust.messages()] == [3, 4, 5]
    chat.cust.send(type="resume", conversation_id=chat.cid, after_seq=6)  # the client has 6 (e.g. over HTTP)
    chat.cust.send(type="ping", ref="resumed")
    chat.cust.until(lambda f: f["type"] == "pong" and f["ref"] == "resumed")
    for n in (6, 7):
        actions.staff_message_send(principal=principal(chat.world.agent), conversation_id=chat.cid, body=f"m{n}",
                                   client_message_id=f"b{n}")
    assert chat.cust.until(lambda f: f["type"] == "message.created")["message"]["seq"] == 7


def test_sockets_from_outside_their_surfaces_allow_list_are_refused(live, world):
    """A customer's socket belongs to the widget's surface, a member of staff's to the console's."""
    _customer, token = factories.customer_with_token()
    IpAllowList.objects.create(surface="widget", networks=["10.0.0.0/8"])  # the test runs on 127.0.0.1
    customer = Peer(live, token=token)
    refused = customer.next()
    assert refused["error"]["code"] == "ip_not_allowed"
    with pytest.raises(Exception):
        customer.next()
    assert customer.ws.close_code == 1008
    staff = Peer(live, cookie=staff_cookie(world.agent))
    assert staff.next()["type"] == "ready"  # the console's list is open
    IpAllowList.objects.create(surface="console", networks=["10.0.0.0/8"])
    assert Peer(live, cookie=staff_cookie(world.agent)).next()["error"]["code"] == "ip_not_allowed"


def test_a_staff_members_frames_keep_their_session_from_idling_out(live, world):
    http = httpx.Client(base_url=live.url, timeout=5)
    assert staff_sign_in(http, world.agent.username, factories.PASSWORD).status_code == 200
    key = http.cookies["sessionid"]
    store = SessionStore(key)
    store[ACTIVE_AT] -= 120  # last active two minutes ago
    store.save()
    soon = timezone.now() + timedelta(minutes=2)
    WebSession.objects.filter(pk=key).update(expire_date=soon)
    agent = Peer(live, cookie=f"sessionid={key}")
    assert agent.next()["type"] == "ready"
    agent.send(type="ping", ref="p")  # automatic: not activity
    agent.until(lambda f: f["type"] == "pong")
    assert WebSession.objects.get(pk=key).expire_date == soon
    agent.send(type="typing", conversation_id=1, is_typing=True, ref="t")  # the person: activity
    agent.until(lambda f: f.get("ref") == "t")
    assert WebSession.objects.get(pk=key).expire_date > soon + timedelta(minutes=10)


def test_an_open_socket_is_closed_when_its_allow_list_changes(live, world):
    peer = Peer(live, token=factories.customer_with_token()[1])
    assert peer.next()["type"] == "ready"
    IpAllowList.objects.create(surface="widget", networks=["10.0.0.0/8"])  # the test runs on 127.0.0.1
    assert peer.until(lambda f: f["type"] == "error", timeout=5.0)["error"]["code"] == "ip_not_allowed"
    with pytest.raises(Exception):
        peer.next(timeout=5.0)
    assert peer.ws.close_code == 1008
