"""A socket's numbered delivery: duplicates dropped, gaps filled from the database, in
order, whatever order the notifications arrive in (e.g. some lost while Redis was away)."""
import asyncio
import json

import pytest

from branchline.conversations import actions
from branchline.conversations.models import Message
from branchline.conversations.payloads import message_for_customer
from branchline.realtime.connection import Connection
from tests import factories
from tests.factories import principal

pytestmark = pytest.mark.django_db(transaction=True)


def frame_of(message):
    return json.dumps({"type": "message.created", "message": message_for_customer(message)})


def test_gaps_are_filled_from_the_database_and_duplicates_dropped(world):
    customer = factories.customer()
    first, _ = actions.customer_message_send(principal=principal(customer), body="m1", client_message_id="c1",
                                             topic_id=world.topic.id)
    for n in range(2, 7):
        actions.customer_message_send(principal=principal(customer), body=f"m{n}", client_message_id=f"c{n}")
    messages = {m.seq: m for m in Message.objects.filter(conversation_id=first.conversation_id)}
    cid = first.conversation_id

    async def scenario():
        sent = []

        async def send(event):
            if event["type"] == "websocket.send":
                sent.append(json.loads(event["text"])["message"]["seq"])

        connection = Connection(send, principal(customer), queue_max=100)
        connection.cursors[cid] = 1
        connection.offer(cid, 2, frame_of(messages[2]))   # next in line: sent at once
        connection.offer(cid, 2, frame_of(messages[2]))   # duplicate: dropped
        connection.offer(cid, 5, frame_of(messages[5]))   # 3 and 4 were lost: fill from the DB
        connection.offer(cid, 4, frame_of(messages[4]))   # late duplicate of a filled one
        connection.offer(cid, 6, frame_of(messages[6]))   # arrives while filling: held, then placed
        for _ in range(100):
            await asyncio.sleep(0.02)
            if len(sent) >= 5 and not connection.syncing:
                break
        connection.writer.cancel()
        return sent, connection.cursors[cid]

    sent, cursor = asyncio.run(scenario())
    assert sent == [2, 3, 4, 5, 6]
    assert cursor == 6


def test_a_socket_that_cannot_keep_up_is_closed_not_waited_for(world):
    reader = principal(factories.customer())

    async def scenario():
        closed = []
        blocked = asyncio.Event()

        async def send(event):
            if event["type"] == "websocket.close":
                closed.append(event["code"])
            else:
                await blocked.wait()  # a peer that never reads

        connection = Connection(send, reader, queue_max=10)
        for n in range(50):
            connection.offer(None, None, json.dumps({"type": "typing", "n": n}))
        await asyncio.sleep(0.05)
        connection.writer.cancel()
        return connection.closed, closed

    is_closed, codes = asyncio.run(scenario())
    assert is_closed and codes == [1013]
