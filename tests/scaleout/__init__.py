"""Scale-out tests: several real server processes on one PostgreSQL database and one
Redis (fixtures in conftest.py).

This module also holds the small HTTP and WebSocket clients these tests and
tests/test_restart_resume.py drive a running server with. Every wait is bounded."""
import asyncio
import itertools
import json

import httpx
import websockets

from tests.support.servers import staff_sign_in

WAIT = 15.0  # the longest any test waits for the server to do something
QUIET = 0.5  # how long a socket is watched to show that nothing more arrives
PASSWORD = "branchline-demo"  # seed_demo's staff password


# --- HTTP ---------------------------------------------------------------------------------

def customer_token(server) -> str:
    """A new anonymous (live-only) customer session."""
    response = httpx.post(server.url + "/api/customer/sessions/anonymous", timeout=WAIT)
    assert response.status_code == 201, response.text
    return response.json()["token"]


def first_topic_id(server) -> int:
    response = httpx.get(server.url + "/api/topics", timeout=WAIT)
    assert response.status_code == 200, response.text
    return response.json()[0]["id"]


def customer_post(server, token: str, path: str, payload: dict) -> httpx.Response:
    return httpx.post(server.url + path, json=payload, headers={"Authorization": f"Bearer {token}"}, timeout=WAIT)


class Staff:
    """A signed-in member of staff. Sessions are stored in the database, so the same
    cookies work against every process of the deployment."""

    def __init__(self, server, username: str):
        self.username = username
        self.http = httpx.Client(timeout=WAIT)
        response = staff_sign_in(self.http, username, PASSWORD, base_url=server.url)
        assert response.status_code == 200, response.text
        self.id = response.json()["id"]
        self.http.headers["X-CSRFToken"] = self.http.cookies["csrftoken"]

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())

    def accept(self, server, conversation_id: int) -> httpx.Response:
        return self.http.post(f"{server.url}/api/staff/conversations/{conversation_id}/accept")

    def send(self, server, conversation_id: int, body: str, client_message_id: str) -> httpx.Response:
        return self.http.post(f"{server.url}/api/staff/conversations/{conversation_id}/messages",
                              json={"body": body, "client_message_id": client_message_id})

    def history(self, server, conversation_id: int) -> list[dict]:
        """The conversation's messages in seq order (up to 100)."""
        response = self.http.get(f"{server.url}/api/staff/conversations/{conversation_id}/messages",
                                 params={"limit": 100})
        assert response.status_code == 200, response.text
        return response.json()["messages"]

    def close(self) -> None:
        self.http.close()


# --- WebSocket ----------------------------------------------------------------------------

class Socket:
    """One client socket. Frames are read in the background into `frames`, so a test
    can wait for something and afterwards look at everything that arrived."""

    _refs = itertools.count(1)

    def __init__(self, ws, ready: dict):
        self.ws, self.ready = ws, ready
        self.frames: list[dict] = []
        self.arrived_at: list[float] = []  # loop time each frame was read (wait_for polls every 20 ms)
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, server, *, token: str | None = None, staff: Staff | None = None,
                   resume: dict[int, int] | None = None) -> "Socket":
        hello, headers = {"type": "hello"}, {}
        if token is not None:
            hello["token"] = token
        if staff is not None:
            headers = {"Cookie": staff.cookie_header, "Origin": server.url}
        if resume is not None:
            hello["resume"] = {str(cid): seq for cid, seq in resume.items()}
        ws = await asyncio.wait_for(websockets.connect(server.ws_url, additional_headers=headers), WAIT)
        await ws.send(json.dumps(hello))
        ready = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert ready["type"] == "ready", ready
        return cls(ws, ready)

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                self.arrived_at.append(asyncio.get_running_loop().time())
                self.frames.append(json.loads(text))
        except websockets.ConnectionClosed:
            pass

    @property
    def is_closed(self) -> bool:
        return self.reader.done()

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.wait_for(self.reader, WAIT)

    async def wait_for(self, predicate, what: str, timeout: float = WAIT):
        """Poll until predicate() is truthy and return it; fail after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (result := predicate()):
            if loop.time() > deadline:
                raise AssertionError(f"waited {timeout}s for {what}; last frames: {self.frames[-8:]}")
            await asyncio.sleep(0.02)
        return result

    async def request(self, frame_type: str, **fields) -> dict:
        """Send a frame with a fresh ref; return the answer carrying that ref."""
        ref = f"r{next(self._refs)}"
        await self.ws.send(json.dumps({"type": frame_type, "ref": ref, **fields}))
        return await self.wait_for(
            lambda: next((f for f in self.frames if f.get("ref") == ref), None), f"the answer to {ref}")

    async def send_message(self, body: str, client_message_id: str, **fields) -> dict:
        """message.send; returns the ack's message. An error answer fails the test."""
        answer = await self.request("message.send", body=body, client_message_id=client_message_id, **fields)
        assert answer["type"] == "message.ack", f"{client_message_id!r} was not acknowledged: {answer}"
        return answer["message"]

    def messages(self, conversation_id: int) -> list[dict]:
        """Every message.created this socket received for the conversation, in arrival order."""
        return [f["message"] for f in self.frames
                if f["type"] == "message.created" and f["message"]["conversation_id"] == conversation_id]

    def seqs(self, conversation_id: int) -> list[int]:
        return [m["seq"] for m in self.messages(conversation_id)]

    def of_type(self, frame_type: str) -> list[dict]:
        return [f for f in self.frames if f["type"] == frame_type]

    async def wait_seq(self, conversation_id: int, seq: int, timeout: float = WAIT) -> None:
        await self.wait_for(lambda: seq in self.seqs(conversation_id),
                            f"message seq {seq} of conversation {conversation_id}", timeout)

    async def expect_stream(self, conversation_id: int, seqs: list[int], timeout: float = WAIT) -> list[dict]:
        """Wait for the last of `seqs`, watch a moment longer, then require that this
        socket received exactly `seqs` for the conversation: each once, in order."""
        await self.wait_seq(conversation_id, seqs[-1], timeout)
        await asyncio.sleep(QUIET)
        assert self.seqs(conversation_id) == seqs, (
            f"conversation {conversation_id}: expected seqs {seqs}, received {self.seqs(conversation_id)}")
        return self.messages(conversation_id)


async def nothing_arrives(socket: Socket, conversation_id: int, quiet: float = QUIET) -> None:
    before = socket.seqs(conversation_id)
    await asyncio.sleep(quiet)
    assert socket.seqs(conversation_id) == before, (
        f"unexpected messages: {socket.seqs(conversation_id)[len(before):]}")


async def start_conversation(customer: Socket, topic_id: int, text: str = "Hello, I need help") -> int:
    """The customer's first message starts a waiting conversation; returns its id once
    the socket has also received it live. (A socket's cursor for a conversation starts
    at the first message it receives, protocol §8: tests wait for seq 1 before anything
    can publish seq 2, or a later message could overtake it on the bus.)"""
    message = await customer.send_message(text, "first", topic_id=topic_id)
    assert message["seq"] == 1, message
    await customer.wait_seq(message["conversation_id"], 1)
    return message["conversation_id"]


async def accepted_conversation(a, b, anna: Staff):
    """A customer (socket on A) starts a conversation; anna (socket on B) sees it in the
    queue and takes it through B's API. Returns (token, customer, agent, conversation id)."""
    token = customer_token(a)
    customer = await Socket.open(a, token=token)
    agent = await Socket.open(b, staff=anna)
    cid = await start_conversation(customer, first_topic_id(a))
    await agent.wait_seq(cid, 1)  # published on A, delivered on B
    response = anna.accept(b, cid)
    assert response.status_code == 200, response.text
    await customer.wait_seq(cid, 2)  # "Anna joined", published on B, delivered on A
    await agent.wait_seq(cid, 2)
    return token, customer, agent, cid
