"""Two server processes on one PostgreSQL database and one Redis bus: the customer's
socket is on A, the agent's on B. Every message reaches both sides exactly once and in
seq order, also when A loses Redis for a while and when A crashes and restarts.

Process A reaches Redis through a TCP proxy (see conftest.py) that the tests cut."""
import asyncio

import httpx
import pytest

from tests.scaleout import (
    WAIT,
    Socket,
    Staff,
    accepted_conversation,
    customer_token,
    first_topic_id,
    nothing_arrives,
    start_conversation,
)

pytestmark = pytest.mark.scaleout


def summary(messages: list[dict]) -> list[tuple]:
    return [(m["seq"], m["id"], m["sender"], m["text"]) for m in messages]


def test_messages_cross_processes_exactly_once_in_order(staff_login, servers):
    a, b = servers
    anna = staff_login(b, "anna")

    async def scenario():
        _, customer, agent, cid = await accepted_conversation(a, b, anna)
        # Turn by turn: each side waits for its ack before the next message.
        for i in range(3):
            await agent.send_message(f"agent {i}", f"agent-{i}", conversation_id=cid)
            await customer.send_message(f"customer {i}", f"customer-{i}")
        # Then each side sends a run without waiting for acks in between.
        await asyncio.gather(*(agent.send_message(f"agent run {i}", f"agent-run-{i}", conversation_id=cid)
                               for i in range(10)))
        await asyncio.gather(*(customer.send_message(f"customer run {i}", f"customer-run-{i}") for i in range(10)))
        seqs = list(range(1, 2 + 6 + 20 + 1))
        on_a = await customer.expect_stream(cid, seqs)
        on_b = await agent.expect_stream(cid, seqs)
        history = anna.history(b, cid)
        assert summary(on_a) == summary(on_b) == summary(history)
        assert [m["text"] for m in history] == [
            "Hello, I need help", "Anna Nowicka joined the conversation.",
            "agent 0", "customer 0", "agent 1", "customer 1", "agent 2", "customer 2",
            *(f"agent run {i}" for i in range(10)), *(f"customer run {i}" for i in range(10))]
        await customer.close()
        await agent.close()

    asyncio.run(scenario())


def test_a_catches_up_from_the_database_after_losing_redis(staff_login, servers, redis_proxy):
    """While A cannot reach Redis, B's messages are published without A hearing them.
    Once A is subscribed again it fills its sockets' gaps from the database."""
    a, b = servers
    anna = staff_login(b, "anna")

    async def scenario():
        _, customer, agent, cid = await accepted_conversation(a, b, anna)
        redis_proxy.cut()
        for i in range(20):
            await agent.send_message(f"while A is cut off {i}", f"cut-{i}", conversation_id=cid)
        await nothing_arrives(customer, cid)  # A really is deaf
        assert customer.seqs(cid) == [1, 2]

        redis_proxy.restore()
        messages = await customer.expect_stream(cid, list(range(1, 23)))
        assert [m["text"] for m in messages[2:]] == [f"while A is cut off {i}" for i in range(20)]
        assert customer.of_type("session.resync"), "the client is told to refresh its unnumbered state"

        # Live delivery works again, still exactly once.
        await agent.send_message("and we are back", "back", conversation_id=cid)
        messages = await customer.expect_stream(cid, list(range(1, 24)))
        assert messages[-1]["text"] == "and we are back"
        await agent.expect_stream(cid, list(range(1, 24)))

    asyncio.run(scenario())


def test_events_committed_on_a_during_the_cut_are_published_afterwards(staff_login, servers, redis_proxy):
    """A keeps what it could not publish and publishes it once Redis is back: an accept
    (numbered: "Anna joined") and a read receipt (unnumbered) made on A reach B."""
    a, b = servers
    anna = staff_login(b, "anna")

    async def scenario():
        customer = await Socket.open(a, token=customer_token(a))
        agent = await Socket.open(b, staff=anna)
        cid = await start_conversation(customer, first_topic_id(a))
        await agent.wait_seq(cid, 1)

        redis_proxy.cut()
        response = anna.accept(a, cid)  # through A's API this time
        assert response.status_code == 200, response.text
        answer = await customer.request("receipt", conversation_id=cid, read_seq=2)
        assert answer["type"] == "receipt.ack", answer
        await nothing_arrives(agent, cid)
        assert agent.seqs(cid) == [1]

        redis_proxy.restore()
        joined = await agent.expect_stream(cid, [1, 2])
        assert joined[1]["text"] == "Anna Nowicka joined the conversation."
        await agent.wait_for(
            lambda: any(r["side"] == "customer" and r["read_seq"] == 2 for r in agent.of_type("receipt.updated")),
            "the customer's read receipt, published by A after the cut")
        await customer.expect_stream(cid, [1, 2])

    asyncio.run(scenario())


def test_customer_messages_sent_on_a_during_the_cut_reach_b_afterwards(staff_login, servers, redis_proxy):
    a, b = servers
    anna = staff_login(b, "anna")

    async def scenario():
        _, customer, agent, cid = await accepted_conversation(a, b, anna)
        redis_proxy.cut()
        try:
            for i in range(5):
                await customer.send_message(f"customer while cut {i}", f"cut-{i}")
            await nothing_arrives(agent, cid)
            assert agent.seqs(cid) == [1, 2]
        finally:
            redis_proxy.restore()
        messages = await agent.expect_stream(cid, list(range(1, 8)))
        assert [m["text"] for m in messages[2:]] == [f"customer while cut {i}" for i in range(5)]

    asyncio.run(scenario())


def test_customer_resumes_on_a_after_a_crashes(staff_login, servers):
    """A is killed (SIGKILL); the agent on B writes meanwhile; A starts again and the
    customer's socket resumes from the last seq it saw: exactly the missed messages."""
    a, b = servers
    anna = staff_login(b, "anna")

    async def scenario():
        token, customer, agent, cid = await accepted_conversation(a, b, anna)
        await agent.send_message("before the crash", "before", conversation_id=cid)
        await customer.expect_stream(cid, [1, 2, 3])
        last_seen = customer.seqs(cid)[-1]

        a.kill()
        await customer.wait_for(lambda: customer.is_closed, "A's sockets to drop when it dies")
        for i in range(5):
            await agent.send_message(f"while A is down {i}", f"down-{i}", conversation_id=cid)

        a.start()
        resumed = await Socket.open(a, token=token, resume={cid: last_seen})
        assert resumed.ready["rejected_resume"] == []
        assert resumed.ready["conversation"]["id"] == cid
        missed = await resumed.expect_stream(cid, [4, 5, 6, 7, 8])
        assert [m["text"] for m in missed] == [f"while A is down {i}" for i in range(5)]

        # The restarted A is on the bus again.
        await agent.send_message("welcome back", "back", conversation_id=cid)
        live = await resumed.expect_stream(cid, [4, 5, 6, 7, 8, 9])
        assert live[-1]["text"] == "welcome back"

    asyncio.run(scenario())


def test_signing_out_on_one_process_closes_that_sign_ins_sockets_on_every_process(servers):
    """Sign-out publishes `session.ended` on the Redis bus: within a second, the sockets of
    that sign-in close 4401 on both processes; another sign-in of the same person stays."""
    a, b = servers
    ben, ben_elsewhere = Staff(b, "ben"), Staff(b, "ben")  # two sessions of one member of staff
    token = customer_token(a)

    async def closed(socket: Socket, within: float) -> int:
        await socket.wait_for(lambda: socket.is_closed, "the socket to close", timeout=within)
        assert socket.of_type("error")[-1]["error"]["code"] == "unauthorized"
        return socket.ws.close_code

    async def scenario():
        customer = [await Socket.open(server, token=token) for server in (a, b)]
        staff = [await Socket.open(server, staff=ben) for server in (a, b)]
        other = await Socket.open(a, staff=ben_elsewhere)
        response = httpx.delete(b.url + "/api/customer/session", headers={"Authorization": f"Bearer {token}"},
                                timeout=WAIT)
        assert response.status_code == 204
        response = ben.http.delete(a.url + "/api/staff/session")
        assert response.status_code == 204
        assert [await closed(s, 1.0) for s in (*customer, *staff)] == [4401] * 4
        assert (await other.request("ping"))["type"] == "pong"
        await other.close()

    try:
        asyncio.run(scenario())
    finally:
        ben.close()
        ben_elsewhere.close()
