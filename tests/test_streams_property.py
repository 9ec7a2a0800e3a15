"""Property: whatever the interleaving of public items, staff-only items, transfers, lost
notifications and reconnects, every reader gets exactly what it may see, once, in order,
and the customer's stream never stalls (docs/adr/0005).

Real actions write to the database; their envelopes go through a real Registry to real
Connection objects (gap filling from the database included). A "lost" notification is
one the registry never hands to that reader (as when Redis is away, after which the bus
resyncs every socket); a reconnect is a new Connection resuming from
the last number its client received."""
import asyncio
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from branchline.conversations import actions
from branchline.conversations.models import Conversation, Message
from branchline.realtime import audiences
from branchline.realtime.bus import set_bus
from branchline.realtime.connection import Connection, db
from branchline.realtime.registry import Registry
from tests import factories
from tests.factories import principal

pytestmark = pytest.mark.django_db(transaction=True)

READERS = ("customer", "supervisor")
OPS = st.lists(st.one_of(
    st.sampled_from(["customer", "agent", "note", "whisper", "transfer"]),
    st.tuples(st.sampled_from(["lose", "reconnect"]), st.sampled_from(READERS)),
), min_size=1, max_size=25)


class ForwardingBus:
    """Hands each committed envelope to the registry at once, except to readers whose
    next notification is to be lost."""

    def __init__(self, registry, lose, loop):
        self.registry, self.lose, self.loop = registry, lose, loop

    def send(self, envelope: bytes):  # called after commit in the action's thread
        self.loop.call_soon_threadsafe(self._deliver, envelope)

    def _deliver(self, envelope: bytes):
        hidden = [c for c in self.lose if audiences.of_principal(c.principal)[0] in json.loads(envelope)["a"]]
        for connection in hidden:
            self.registry.remove(connection)
        self.registry.deliver(envelope)
        for connection in hidden:
            self.registry.add(connection)
        self.lose.clear()


class Reader:
    """A client: what it received, and its socket."""

    def __init__(self, who, registry):
        self.principal, self.registry = who, registry
        self.received: list[dict] = []
        self.connection = None

    @property
    def number(self):
        return "seq" if self.principal.is_customer else "staff_seq"

    def connect(self, conversation_id):
        async def send(event):
            if event["type"] == "websocket.send":
                frame = json.loads(event["text"])
                if frame["type"] == "message.created":
                    self.received.append(frame["message"])

        if self.connection is not None:
            self.registry.remove(self.connection)
            self.connection.writer.cancel()
        self.connection = Connection(send, self.principal, queue_max=10_000)
        last = max((m[self.number] for m in self.received), default=0)
        self.connection.cursors[conversation_id] = last  # the resume map a client sends
        self.registry.add(self.connection)
        self.connection.start_sync()


def _say(user, conversation_id, visibility="public"):
    actions.staff_message_send(principal=principal(user), conversation_id=conversation_id, body="x",
                               client_message_id=uuid.uuid4().hex, visibility=visibility)


def _start(customer, world) -> int:
    first, _ = actions.customer_message_send(principal=principal(customer), body="hi",
                                             client_message_id=uuid.uuid4().hex, topic_id=world.topic.id)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=first.conversation_id)
    actions.conversation_join(principal=principal(world.supervisor), conversation_id=first.conversation_id)
    return first.conversation_id


def _write(op, customer, world, cid) -> None:
    assigned = Conversation.objects.get(pk=cid).assigned_agent
    if op == "customer":
        actions.customer_message_send(principal=principal(customer), body="x", client_message_id=uuid.uuid4().hex)
    elif op == "agent":
        _say(assigned, cid)
    elif op == "note":
        _say(assigned, cid, "staff")
    elif op == "whisper":
        _say(world.supervisor, cid, "staff")
    else:  # transfer to the other agent
        receiver = world.agent2 if assigned == world.agent else world.agent
        actions.conversation_transfer(principal=principal(assigned), conversation_id=cid, to_user_id=receiver.id,
                                      note="over to you")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_every_reader_gets_what_it_may_see_once_in_order(world, ops):
    customer = factories.customer()

    async def scenario():
        registry, lose = Registry(), []
        previous = set_bus(ForwardingBus(registry, lose, asyncio.get_running_loop()))
        try:
            cid = await db(_start, customer, world)
            readers = {"customer": Reader(principal(customer), registry),
                       "supervisor": Reader(principal(world.supervisor), registry)}
            for reader in readers.values():
                reader.connect(cid)
            for op in ops:
                if isinstance(op, str):
                    await db(_write, op, customer, world, cid)
                elif op[0] == "lose":
                    lose.append(readers[op[1]].connection)
                else:
                    readers[op[1]].connect(cid)
                await asyncio.sleep(0)
            # Notifications are lost only while the bus is away, and a bus that is back
            # resyncs every socket (realtime/bus.py): so does this test, at the end.
            await registry.resync_all()
            for _ in range(200):
                await asyncio.sleep(0.01)
                if not any(r.connection.syncing for r in readers.values()):
                    break
            for reader in readers.values():
                reader.connection.writer.cancel()
            return cid, readers
        finally:
            set_bus(previous)

    cid, readers = asyncio.run(scenario())
    conversation = Conversation.objects.get(pk=cid)
    public = list(Message.objects.filter(conversation_id=cid, visibility="public").order_by("seq")
                  .values_list("id", flat=True))
    everything = list(Message.objects.filter(conversation_id=cid).order_by("staff_seq").values_list("id", flat=True))
    got = readers["customer"].received
    assert [m["seq"] for m in got] == list(range(1, conversation.last_seq + 1))  # once, in order, no stall
    assert [m["id"] for m in got] == public
    assert not any("staff_seq" in m or "kind" in m for m in got)  # never a staff shape
    got = readers["supervisor"].received
    assert [m["staff_seq"] for m in got] == list(range(1, conversation.last_staff_seq + 1))
    assert [m["id"] for m in got] == everything
