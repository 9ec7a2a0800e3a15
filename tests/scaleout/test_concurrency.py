"""Races on PostgreSQL's real row locks, across two server processes: two agents
accepting one conversation, one message sent several times at once, and both sides of a
conversation writing at the same moment."""
import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.scaleout import (
    WAIT,
    Socket,
    accepted_conversation,
    customer_post,
    customer_token,
    first_topic_id,
    start_conversation,
)

pytestmark = pytest.mark.scaleout


def waiting_conversation(server, topic_id: int) -> int:
    token = customer_token(server)
    response = customer_post(server, token, "/api/customer/messages",
                             {"body": "Is anyone there?", "client_message_id": "first", "topic_id": topic_id})
    assert response.status_code == 201, response.text
    return response.json()["message"]["conversation_id"]


def test_two_agents_accepting_at_once_exactly_one_wins(staff_login, servers, sql):
    a, b = servers
    anna, ben = staff_login(a, "anna"), staff_login(b, "ben")
    topic_id = first_topic_id(a)
    for _round in range(5):
        cid = waiting_conversation(a, topic_id)
        start = threading.Barrier(2)

        def accept(staff, server):
            start.wait(WAIT)
            return staff.accept(server, cid)

        with ThreadPoolExecutor(2) as pool:
            by_anna, by_ben = pool.submit(accept, anna, a), pool.submit(accept, ben, b)
            answers = {anna: by_anna.result(), ben: by_ben.result()}

        assert sorted(r.status_code for r in answers.values()) == [200, 409], {s.username: r.text
                                                                                for s, r in answers.items()}
        winner = next(s for s, r in answers.items() if r.status_code == 200)
        loser = next(s for s, r in answers.items() if r.status_code == 409)
        assert answers[loser].json()["error"]["code"] == "already_taken"
        assert answers[winner].json()["assigned_agent"]["id"] == winner.id

        assert sql("SELECT state, assigned_agent_id FROM conversations_conversation WHERE id = %s", cid) == [
            ("active", winner.id)]
        assert sql("SELECT seq, sender, system_code, author_id FROM conversations_message "
                   "WHERE conversation_id = %s ORDER BY seq", cid) == [
            (1, "customer", "", None), (2, "system", "agent_joined", winner.id)]
        history = winner.history(a, cid)
        assert [m["system_code"] for m in history] == [None, "agent_joined"]


def test_one_customer_message_sent_at_once_over_http_and_sockets_is_stored_once(servers, sql):
    """The customer's first message, retried at once over both processes' API and
    sockets: one message and one conversation, every answer naming the same message."""
    a, b = servers

    async def scenario():
        token = customer_token(a)
        sockets = [await Socket.open(a, token=token), await Socket.open(b, token=token)]
        frame = {"body": "Only once, please", "client_message_id": "same-1", "topic_id": first_topic_id(a)}

        def over_http(server):
            response = customer_post(server, token, "/api/customer/messages", frame)
            assert response.status_code in (200, 201), response.text
            return response.json()["message"], response.status_code == 201

        async def over_socket(socket):
            answer = await socket.request("message.send", **frame)
            assert answer["type"] == "message.ack", answer
            return answer["message"], not answer["duplicate"]

        results = await asyncio.gather(*(asyncio.to_thread(over_http, s) for s in (a, b, a, b)),
                                       *(over_socket(s) for s in sockets * 2))
        assert len({message["id"] for message, _ in results}) == 1, results
        assert sum(created for _, created in results) == 1, results

        cid = results[0][0]["conversation_id"]
        for socket in sockets:
            await socket.expect_stream(cid, [1])
        customer_id = sockets[0].ready["principal"]["id"]
        assert sql("SELECT count(*) FROM conversations_message WHERE customer_id = %s", customer_id) == [(1,)]
        assert sql("SELECT count(*) FROM conversations_conversation WHERE customer_id = %s", customer_id) == [(1,)]

    asyncio.run(scenario())


def test_one_agent_message_sent_at_once_over_http_and_sockets_is_stored_once(staff_login, servers, sql):
    a, b = servers
    anna = staff_login(b, "anna")

    async def scenario():
        customer = await Socket.open(a, token=customer_token(a))
        cid = await start_conversation(customer, first_topic_id(a))
        assert anna.accept(b, cid).status_code == 200
        sockets = [await Socket.open(a, staff=anna), await Socket.open(b, staff=anna)]
        frame = {"body": "How can I help?", "client_message_id": "same-2"}

        def over_http(server):
            response = anna.send(server, cid, **frame)
            assert response.status_code in (200, 201), response.text
            return response.json()["message"], response.status_code == 201

        async def over_socket(socket):
            answer = await socket.request("message.send", conversation_id=cid, **frame)
            assert answer["type"] == "message.ack", answer
            return answer["message"], not answer["duplicate"]

        results = await asyncio.gather(*(asyncio.to_thread(over_http, s) for s in (a, b, a, b)),
                                       *(over_socket(s) for s in sockets * 2))
        assert len({message["id"] for message, _ in results}) == 1, results
        assert sum(created for _, created in results) == 1, results
        assert results[0][0]["seq"] == 3

        await customer.expect_stream(cid, [1, 2, 3])
        assert sql("SELECT count(*) FROM conversations_message WHERE conversation_id = %s "
                   "AND client_message_id = 'same-2'", cid) == [(1,)]

    asyncio.run(scenario())


def test_customer_and_agent_writing_at_the_same_moment(staff_login, servers):
    """Both sides of one conversation send at once (customer on A, agent on B): every
    message is stored, acknowledged and delivered to both sides once, in seq order."""
    a, b = servers
    anna = staff_login(b, "anna")

    async def scenario():
        _, customer, agent, cid = await accepted_conversation(a, b, anna)
        await asyncio.gather(
            *(agent.send_message(f"agent {i}", f"agent-{i}", conversation_id=cid) for i in range(15)),
            *(customer.send_message(f"customer {i}", f"customer-{i}") for i in range(15)),
        )
        seqs = list(range(1, 33))
        await customer.expect_stream(cid, seqs)
        await agent.expect_stream(cid, seqs)
        history = anna.history(b, cid)
        for sender in ("agent", "customer"):
            sent = [m["text"] for m in history if m["sender"] == sender and m["text"].startswith(sender + " ")]
            assert sent == [f"{sender} {i}" for i in range(15)]  # each side's order kept

    asyncio.run(scenario())
