"""The Redis bus packs the envelopes that gathered during one publish into few Redis messages:
another process receives every one of them, once and in order, whatever the batch sizes;
its own come back from Redis and are skipped (it delivered them when they were sent)."""
import asyncio
import json

import pytest

from branchline.realtime.bus import RedisBus

from .conftest import REDIS_URL

pytestmark = pytest.mark.scaleout


def test_batches_split_into_messages_of_bounded_size():
    bus = RedisBus(REDIS_URL, "unused")
    bus.MESSAGE_MAX_BYTES = 100
    envelopes = [json.dumps({"n": n, "pad": "x" * (n % 40)}).encode() for n in range(50)]
    messages = list(bus._messages(envelopes))
    assert len(messages) > 5 and all(len(m) <= 100 + len(bus.origin) + 1 + 60 for m in messages)
    unpacked = [e for m in messages for e in m.partition(b"|")[2].split(b"\n")]
    assert unpacked == envelopes
    assert list(bus._messages([b"x" * 500])) == [bus.origin + b"|" + b"x" * 500]  # one larger than the cap


def test_another_process_gets_every_envelope_once_and_in_order(redis_ready, namespace):
    async def run():
        channel = f"{namespace}:bus-batches"
        sender_got, receiver_got = [], []
        sender, receiver = RedisBus(REDIS_URL, channel), RedisBus(REDIS_URL, channel)

        async def nothing():
            return None

        await receiver.start(receiver_got.append, nothing)
        await sender.start(sender_got.append, nothing)
        await asyncio.wait_for(asyncio.gather(receiver.connected.wait(), sender.connected.wait()), 5)
        envelopes = [json.dumps({"t": "message.added", "s": n, "d": {"body": "a\nb"}}).encode() for n in range(3000)]
        for start in range(0, len(envelopes), 500):  # bursts: each is published as it gathered
            for envelope in envelopes[start:start + 500]:
                sender.send(envelope)
            await asyncio.sleep(0)
        deadline = asyncio.get_running_loop().time() + 10
        while len(receiver_got) < len(envelopes) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # anything extra (a duplicate, an echo) would arrive by now
        await sender.stop()
        await receiver.stop()
        return sender_got, receiver_got, envelopes

    sender_got, receiver_got, envelopes = asyncio.run(run())
    assert receiver_got == envelopes
    assert sender_got == envelopes  # delivered to its own sockets once, when sent; the echo skipped
