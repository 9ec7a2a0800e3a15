"""Redis seen from a server process: a Redis that hangs (accepts, never answers, as under
SIGSTOP) must not stall messaging, and however many requests a process serves it keeps a
handful of Redis connections.

The server processes reach Redis through `redis_proxy`, which the tests freeze and whose
forwarded connections they count."""
import asyncio
import statistics

import httpx
import pytest

from tests.scaleout import WAIT, accepted_conversation

pytestmark = pytest.mark.scaleout

BASELINE_SECONDS = 1.5
FREEZE_SECONDS = 2.5
ACK_P99_LIMIT = 0.100
NOISE_ALLOWANCE = 0.050  # see below


def p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98]


def test_sends_are_acknowledged_at_once_while_redis_hangs_and_all_arrive_after(make_env, launch, redis_proxy,
                                                                                staff_login):
    """The rate limit skips a hung Redis after one short timeout per process; sends are
    acknowledged as usual, and once Redis answers again every acknowledged message reaches
    the other side, exactly once and in order."""
    url = f"redis://127.0.0.1:{redis_proxy.port}/0"
    a, b = launch(make_env(redis_url=url), make_env(redis_url=url))
    anna = staff_login(b, "anna")

    async def scenario():
        _, customer, agent, cid = await accepted_conversation(a, b, anna)
        loop = asyncio.get_running_loop()
        latencies: dict[str, list[float]] = {"baseline": [], "frozen": []}
        phase = "baseline"
        stop = asyncio.Event()

        async def keep_sending(socket, side: str, **fields) -> int:
            sent = 0
            while not stop.is_set():
                started = loop.time()
                await socket.send_message(f"{side} {sent}", f"{side}-{sent}", **fields)
                ack = next(i for i, frame in enumerate(socket.frames) if frame["type"] == "message.ack"
                           and frame["message"]["client_message_id"] == f"{side}-{sent}")
                latencies[phase].append(socket.arrived_at[ack] - started)
                sent += 1
            return sent

        senders = [asyncio.create_task(keep_sending(customer, "customer")),
                   asyncio.create_task(keep_sending(agent, "agent", conversation_id=cid))]
        await asyncio.sleep(BASELINE_SECONDS)
        redis_proxy.freeze()
        phase = "frozen"
        try:
            await asyncio.sleep(FREEZE_SECONDS)
            stop.set()
        finally:
            redis_proxy.thaw()  # a send still blocked on Redis records the whole freeze
        sent = await asyncio.wait_for(asyncio.gather(*senders), WAIT)

        seqs = list(range(1, 2 + sum(sent) + 1))  # the first message and "Anna joined", then the sends
        on_a, on_b = await customer.expect_stream(cid, seqs), await agent.expect_stream(cid, seqs)
        assert [m["id"] for m in on_a] == [m["id"] for m in on_b]
        return latencies

    latencies = asyncio.run(scenario())
    baseline, frozen = latencies["baseline"], latencies["frozen"]
    print(f"ack latency, Redis answering: n={len(baseline)} p50 {statistics.median(baseline) * 1000:.1f} ms "
          f"p99 {p99(baseline) * 1000:.1f} ms; Redis hung: n={len(frozen)} p50 {statistics.median(frozen) * 1000:.1f} "
          f"ms p99 {p99(frozen) * 1000:.1f} ms max {max(frozen) * 1000:.1f} ms")
    # Without the fix a send waits as long as Redis hangs: the whole freeze.
    assert max(frozen) < 1.0, f"a send waited {max(frozen):.2f} s while Redis hung"
    assert len(frozen) >= 20, latencies  # both sides really kept sending while Redis hung
    # Other test suites may share these two cores; when they push the ack p99 past 50 ms
    # with Redis answering, the same noise is allowed on top while it hangs.
    limit = max(ACK_P99_LIMIT, p99(baseline) + NOISE_ALLOWANCE)
    assert p99(frozen) <= limit, f"ack p99 {p99(frozen) * 1000:.0f} ms while Redis hung (limit {limit * 1000:.0f} ms)"
    for server in (a, b):
        warnings = [line for line in server.log_path.read_text().splitlines()
                    if "rate-limit cache (Redis) unavailable" in line]
        assert len(warnings) == 1, warnings  # one traceback per process, not one per send


def test_a_process_keeps_a_few_redis_connections_however_many_requests(make_env, launch, redis_proxy):
    """Every guest session spends the per-address budget in the Redis cache. Django builds a
    cache object per request context; each used to open its own connection pool (one
    process: 145 connections after 200 requests)."""
    (server,) = launch(make_env(redis_url=f"redis://127.0.0.1:{redis_proxy.port}/0"))
    at_start = redis_proxy.accepted  # the bus: one subscription, one publisher
    with httpx.Client(timeout=WAIT) as client:
        for _ in range(100):
            assert client.post(server.url + "/api/customer/sessions/anonymous").status_code == 201
    assert redis_proxy.accepted - at_start <= 2, f"{redis_proxy.accepted - at_start} new Redis connections"
