"""PostgreSQL connections under load: each server process draws from one bounded pool,
and a database that holds every connection makes the API answer 503, never 500 or hang.

Both tests stop themselves: the load runs for a few seconds and stops at once if the
connection count passes its bound (so a regression cannot exhaust the shared server)."""
import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from tests.scaleout import WAIT, Socket, accepted_conversation, customer_token

pytestmark = pytest.mark.scaleout

LOAD_SECONDS = 3.0
HTTP_CLIENTS = 40  # half customers, half staff, spread over both processes
SENDERS = 2  # conversations whose two sides keep writing over their sockets meanwhile
POOL_MAX = 12
MARGIN = 2  # the test's own connections: the sampler, and one spare


class ConnectionSampler(threading.Thread):
    """Counts the test database's backends every 20 ms; trips `over` past `bound`."""

    def __init__(self, url: str, bound: int):
        super().__init__(daemon=True, name="pg-sampler")
        self.url, self.bound = url, bound
        self.peak = 0
        self.over = threading.Event()
        self.done = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=3) as conn:
            while not self.done.is_set():
                (count,), = conn.execute("SELECT count(*) FROM pg_stat_activity "
                                         "WHERE datname = current_database()").fetchall()
                self.peak = max(self.peak, count)
                if count > self.bound:
                    self.over.set()
                self.done.wait(0.02)


def test_many_readers_and_writers_stay_within_the_pools(make_env, launch, staff_login, scaleout_database):
    """40 HTTP clients paging history and two conversations writing over sockets, on two
    processes, for a few seconds: no 5xx, and PostgreSQL never sees more connections than
    2 x the pool's max_size (with conn_max_age=600 one process alone opened ~90)."""
    a, b = launch(*(make_env(BRANCHLINE_DB_POOL_MAX=str(POOL_MAX), BRANCHLINE_DB_THREADS="4") for _ in range(2)))
    anna = staff_login(b, "anna")
    sampler = ConnectionSampler(scaleout_database.replace("postgres://", "postgresql://"), 2 * POOL_MAX + MARGIN)
    statuses: dict[int, int] = {}
    failures: list[str] = []

    async def page(client: httpx.AsyncClient, url: str, headers: dict, stop: asyncio.Event):
        while not stop.is_set():
            try:
                response = await client.get(url, headers=headers, params={"limit": 20})
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            except httpx.HTTPError as exc:
                failures.append(repr(exc))

    async def write(socket: Socket, stop: asyncio.Event, **fields):
        sent = 0
        while not stop.is_set():
            await socket.send_message(f"load {sent}", f"load-{id(socket)}-{sent}", **fields)
            sent += 1
        return sent

    async def scenario():
        pairs = [await accepted_conversation(a, b, anna) for _ in range(SENDERS)]
        tokens = [token for token, *_ in pairs] + [customer_token(b) for _ in range(2)]
        stop = asyncio.Event()
        sampler.start()
        async with httpx.AsyncClient(timeout=WAIT, limits=httpx.Limits(max_connections=HTTP_CLIENTS)) as client:
            readers = []
            for i in range(HTTP_CLIENTS):
                server = (a, b)[i % 2]
                if i % 4 < 2:
                    url, headers = server.url + "/api/customer/messages", {
                        "Authorization": f"Bearer {tokens[i % len(tokens)]}"}
                else:
                    cid = pairs[i % SENDERS][3]
                    url, headers = (f"{server.url}/api/staff/conversations/{cid}/messages",
                                    {"Cookie": anna.cookie_header})
                readers.append(asyncio.create_task(page(client, url, headers, stop)))
            writers = [asyncio.create_task(write(socket, stop, **fields))
                       for _, customer, agent, cid in pairs
                       for socket, fields in ((customer, {}), (agent, {"conversation_id": cid}))]
            deadline = time.monotonic() + LOAD_SECONDS
            while time.monotonic() < deadline and not sampler.over.is_set():
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.gather(*readers)
            sent = await asyncio.gather(*writers)
        for _, customer, agent, cid in pairs:
            await customer.close()
            await agent.close()
        return sent

    try:
        sent = asyncio.run(scenario())
    finally:
        sampler.done.set()
        sampler.join(5)
    assert not sampler.over.is_set(), f"PostgreSQL saw {sampler.peak} connections (bound {2 * POOL_MAX + MARGIN})"
    assert not failures, failures[:5]
    assert {status for status in statuses if status >= 500} == set(), statuses
    # The load really ran (loosely: other suites may share these two cores).
    assert statuses.get(200, 0) >= HTTP_CLIENTS and min(sent) >= 1, (statuses, sent)
    print(f"peak connections {sampler.peak} (bound {2 * POOL_MAX + MARGIN}); answers {statuses}; socket sends {sent}")


def test_a_locked_table_answers_503_promptly(make_env, launch, scaleout_database):
    """The test locks the table every customer call reads (as a stuck migration or a
    runaway transaction would). Each call waits on the lock until statement_timeout: all
    answer 503 `unavailable` promptly, and the process serves again once the lock is gone."""
    (server,) = launch(make_env(BRANCHLINE_DB_THREADS="1", BRANCHLINE_HTTP_THREADS="8", BRANCHLINE_DB_POOL_MAX="11",
                                BRANCHLINE_DB_POOL_MIN="1",
                                BRANCHLINE_DB_POOL_TIMEOUT="0.5", BRANCHLINE_DB_STATEMENT_TIMEOUT="1"))
    tokens = [customer_token(server) for _ in range(8)]

    def me(client: httpx.Client, token: str) -> httpx.Response:
        return client.get(server.url + "/api/customer/me", headers={"Authorization": f"Bearer {token}"})

    with psycopg.connect(scaleout_database.replace("postgres://", "postgresql://"), connect_timeout=3) as locker, \
            httpx.Client(timeout=5) as client:
        locker.execute("LOCK TABLE accounts_customersession IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with ThreadPoolExecutor(len(tokens)) as pool:
            answers = list(pool.map(lambda token: me(client, token), tokens))
        elapsed = time.monotonic() - started
        locker.rollback()
        after = me(client, tokens[0])
    assert [(r.status_code, r.json()["error"]["code"], r.headers.get("Retry-After")) for r in answers] == [
        (503, "unavailable", "1")] * len(tokens)
    assert elapsed < 3, f"the 503s took {elapsed:.1f} s (pool timeout 0.5 s, statement timeout 1 s)"
    assert after.status_code == 200, after.text
