"""The Cases module under load (issue 7): a million cases, each with its conversation and its
handler, across two lines of business; 20 concurrent readers page the index as the Retail
line's administrator and as an agent, first pages and deep pages, unfiltered and filtered.

    .venv/bin/python bench/cases.py --setups pg --processes 2        # PostgreSQL + Redis
    .venv/bin/python bench/cases.py --setups sqlite --cases 200000  # embedded

Each reader has its own keep-alive connection (bench/httpclient.py), and each kind of page is
read three ways (`--modes`): open loop, each reader asking `--rate` pages a second (1: a person
paging fast), out of step with the others, as bench/history.py does; burst, all the readers
asking at the same instant every `--period` seconds (20 requests at once: the last one's wait);
then closed loop, each asking the next page as soon as it has read the last (the maximum;
latency there is queueing). Latency is client-measured, end to end. A "deep" page
starts below a random case id in the oldest half (keyset: `before_id`). Every answer must be
200 with a full page, or the run stops. The database is filled with plain INSERT ... SELECT
statements (minutes, not hours); the server is started and stopped here by its pid; the
PostgreSQL database (branchline_cases_<pid>) is dropped at the end.
Target (issue 7): p99 <= 50 ms at 20 concurrent readers on PostgreSQL."""
import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
from history import drop_database, log, summary, tree_cpu_ticks  # noqa: E402
from httpclient import HttpConnection  # noqa: E402
from tests.support.servers import ServerProcess, manage, server_env, staff_sign_in  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = 50

# Run in a Django process: fills CASES cases (one conversation and one handler each) with a
# few statements, then prints what the readers need as JSON.
SEED = r'''
import json, django
django.setup()
from django.db import connection, transaction
from branchline.accounts.models import LineOfBusiness, Role, User
from branchline.cases.actions import case_statuses_ensure
from branchline.cases.models import Case, CaseHandler, CaseStatus, CaseType, Topic
from branchline.connectors.actions import channel_web
from branchline.contacts.models import Customer
from branchline.conversations.models import Conversation
from branchline.routing.actions import queue_default_ensure
from branchline.routing.models import Queue

pg = connection.vendor == "postgresql"
retail = User.objects.get(username="anna").line_of_business
corporate, _ = LineOfBusiness.objects.get_or_create(name="Corporate Banking")
treasury_type, _ = CaseType.objects.get_or_create(line_of_business=corporate, name="Treasury services")
Topic.objects.get_or_create(name="Treasury", defaults={"case_type": treasury_type})
User.objects.get_or_create(username="corp.agent", defaults={"role": Role.AGENT, "line_of_business": corporate})
for line in (retail, corporate):
    case_statuses_ensure(line.id)
    queue_default_ensure(line.id)  # every conversation waits in (and belongs to) a queue
channel = channel_web()

def q(model, field=None):
    name = model._meta.db_table if field is None else model._meta.get_field(field).column
    return connection.ops.quote_name(name)

def series(n):  # rows (n) for n = 1..N
    return (f"generate_series(1::bigint, {n}) AS s(n)" if pg else
            f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) SELECT n FROM s) AS s")

def at(expr):  # a timestamp CASES minutes after 2025-01-01 when expr runs 1..CASES
    return (f"(TIMESTAMPTZ '2025-01-01 00:00:00+00' + ({expr}) * INTERVAL '1 minute')" if pg else
            f"strftime('%Y-%m-%d %H:%M:%S', '2025-01-01', '+' || ({expr}) || ' minutes')")

with transaction.atomic(), connection.cursor() as c:
    if pg:
        c.execute("SET LOCAL statement_timeout = 0")  # the settings' 5 s bound is for requests, not this
    # Mapping tables: k -> (topic, case type, line), (line, k) -> status, (line, k) -> agent.
    c.execute("CREATE TEMP TABLE bench_topic (k integer, topic_id bigint, case_type_id bigint, line_id bigint, "
              "n_status integer, n_agent integer)")
    topics = list(Topic.objects.select_related("case_type").order_by("id"))
    # Four in five cases are Retail's: one Corporate topic among four Retail ones.
    for k, t in enumerate(topics):
        line_id = t.case_type.line_of_business_id
        c.execute("INSERT INTO bench_topic VALUES (%s, %s, %s, %s, %s, %s)",
                  [k, t.id, t.case_type_id, line_id, CaseStatus.objects.filter(line_of_business_id=line_id).count(),
                   User.objects.filter(line_of_business_id=line_id, role=Role.AGENT).count()])
    c.execute("CREATE TEMP TABLE bench_status (line_id bigint, k integer, status_id bigint)")
    c.execute("CREATE TEMP TABLE bench_agent (line_id bigint, k integer, user_id bigint)")
    for line in (retail, corporate):
        for k, s in enumerate(CaseStatus.objects.filter(line_of_business=line).order_by("id")):
            c.execute("INSERT INTO bench_status VALUES (%s, %s, %s)", [line.id, k, s.id])
        agents = User.objects.filter(line_of_business=line, role=Role.AGENT).order_by("id")
        for k, u in enumerate(agents):
            c.execute("INSERT INTO bench_agent VALUES (%s, %s, %s)", [line.id, k, u.id])
    n_topics = len(topics)
    c.execute("SELECT COALESCE(MAX(id), 0) FROM " + q(Customer))
    customer_base = c.fetchone()[0]
    c.execute(f"INSERT INTO {q(Customer)} (id, is_authenticated, sso_issuer, sso_subject, name, email, claims, "
              f"created_at, barred_by, bar_reason, dropped_messages) "
              f"SELECT {customer_base} + n, {'TRUE' if pg else '1'}, 'bench', 'bench-' || n, "
              f"'Customer ' || n, '', '{{}}', {at('n')}, '', '', 0 FROM {series(CUSTOMERS)}")
    c.execute("SELECT COALESCE(MAX(id), 0) FROM " + q(Case))
    case_base = c.fetchone()[0]
    c.execute("SELECT COALESCE(MAX(id), 0) FROM " + q(Conversation))
    conversation_base = c.fetchone()[0]
    n_status, n_agent = "t.n_status", "t.n_agent"
    c.execute(f"INSERT INTO {q(Case)} (id, customer_id, topic_id, case_type_id, line_of_business_id, status_id, "
              f"resolved_at, created_at, updated_at) "
              f"SELECT {case_base} + n, {customer_base} + 1 + (n * 7919) % {CUSTOMERS}, t.topic_id, t.case_type_id, "
              f"t.line_id, bs.status_id, NULL, {at('n')}, {at('n')} "
              f"FROM {series(CASES)} JOIN bench_topic t ON t.k = n % {n_topics} "
              f"JOIN bench_status bs ON bs.line_id = t.line_id AND bs.k = (n / {n_topics}) % {n_status}")
    queue_of_line = (f"(SELECT id FROM {q(Queue)} WHERE line_of_business_id = k.line_of_business_id "
                     f"AND is_default = {'TRUE' if pg else '1'})")
    c.execute(f"INSERT INTO {q(Conversation)} (id, customer_id, case_id, topic_id, channel_id, line_of_business_id, "
              f"state, outbound, last_seq, last_staff_seq, watchers, customer_delivered_seq, customer_read_seq, "
              f"agent_delivered_seq, agent_read_seq, created_at, accepted_at, ended_at, end_reason, last_message_at, "
              f"queue_id, rejection, customer_active_at) "
              f"SELECT {conversation_base} + n, k.customer_id, k.id, k.topic_id, {channel.id}, k.line_of_business_id, "
              f"'ended', {'FALSE' if pg else '0'}, 0, 0, '[]', 0, 0, 0, 0, k.created_at, k.created_at, k.created_at, "
              f"'agent', k.created_at, {queue_of_line}, '', k.created_at "
              f"FROM {series(CASES)} JOIN {q(Case)} k ON k.id = {case_base} + n")
    c.execute(f"INSERT INTO {q(CaseHandler)} (case_id, user_id, first_at) "
              f"SELECT k.id, ba.user_id, k.created_at FROM {series(CASES)} "
              f"JOIN {q(Case)} k ON k.id = {case_base} + n JOIN bench_topic t ON t.topic_id = k.topic_id "
              f"JOIN bench_agent ba ON ba.line_id = t.line_id AND ba.k = n % {n_agent}")
    if pg:
        for model in (Customer, Case, Conversation, CaseHandler):
            c.execute(f"SELECT setval(pg_get_serial_sequence('{model._meta.db_table}', 'id'), "
                      f"(SELECT MAX(id) FROM {q(model)}))")
with connection.cursor() as c:  # a database that has lived has statistics and a visibility map
    c.execute("VACUUM ANALYZE" if pg else "ANALYZE")
retail_statuses = list(CaseStatus.objects.filter(line_of_business=retail).values_list("id", flat=True))
print(json.dumps({"first_case": case_base + 1, "last_case": case_base + CASES, "statuses": retail_statuses,
                  "case_types": list(CaseType.objects.filter(line_of_business=retail).values_list("id", flat=True)),
                  "anna": User.objects.get(username="anna").id}))
'''


def seed(env: dict, cases: int) -> dict:
    for args in (("migrate", "--noinput", "-v", "0"), ("seed_demo",)):
        result = manage(*args, env=env, check=False)
        if result.returncode:
            raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    began = time.monotonic()
    code = f"CASES, CUSTOMERS = {cases}, {max(1000, cases // 10)}\n" + SEED
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT,
                         timeout=3600)
    if out.returncode:
        raise SystemExit(f"seeding failed:\n{out.stderr[-3000:]}")
    facts = json.loads(out.stdout.strip().splitlines()[-1])
    log(f"seeded {cases:,} cases in {time.monotonic() - began:.0f} s: ids {facts['first_case']}-{facts['last_case']}")
    return facts


def signed_in(url: str, username: str) -> dict:
    staff = httpx.Client(base_url=url, timeout=30)
    staff_sign_in(staff, username, "branchline-demo").raise_for_status()
    return {"Cookie": f"sessionid={staff.cookies['sessionid']}"}


def scenarios(facts: dict, rng: random.Random) -> list[tuple[str, str, callable]]:
    """(name, who, params()) for each measured page kind."""
    low, high = facts["first_case"], facts["last_case"]
    oldest_half = (low + PAGE * 40, (low + high) // 2)

    def deep():
        return rng.randint(*oldest_half)

    month = time.strftime("2025-%m-01", time.gmtime(0))
    return [
        ("admin first page", "admin", lambda: {}),
        ("admin deep page", "admin", lambda: {"before_id": deep()}),
        ("admin status, first", "admin", lambda: {"status_id": rng.choice(facts["statuses"])}),
        ("admin status, deep", "admin", lambda: {"status_id": rng.choice(facts["statuses"]), "before_id": deep()}),
        ("admin open cases, deep", "admin", lambda: {"resolved": "false", "before_id": deep()}),
        ("admin case type, deep", "admin",
         lambda: {"case_type_id": rng.choice(facts["case_types"]), "before_id": deep()}),
        ("admin agent, deep", "admin", lambda: {"agent_id": facts["anna"], "before_id": deep()}),
        ("admin created in a month", "admin", lambda: {"created_from": month, "created_to": month[:8] + "28"}),
        ("agent first page", "anna", lambda: {}),
        ("agent deep page", "anna", lambda: {"before_id": deep()}),
        ("agent status, deep", "anna", lambda: {"status_id": rng.choice(facts["statuses"]), "before_id": deep()}),
    ]


async def readers(urls: list[str], headers: dict, params, n: int, duration: float, mode: str, rate: float = 1.0,
                  period: float = 0.5) -> list[float]:
    """n readers for `duration`, each on its own connection to one of the server processes
    (dealt round-robin, as a load balancer would), in one of three modes:
    "open": each asks `rate` pages a second, out of step with the others;
    "burst": all n ask at the same instant, every `period` seconds (n requests at once:
    how long the last of them waits);
    "closed": each asks the next page as soon as it has read the last (the maximum rate;
    the latency there is queueing, n / pages per second)."""
    latencies: list[float] = []
    began_at = time.monotonic()
    deadline = began_at + duration

    async def ask(connection: HttpConnection) -> None:
        query = {"limit": PAGE, **params()}
        began = time.perf_counter()
        status, body = await connection.get("/api/staff/cases", query)
        latencies.append((time.perf_counter() - began) * 1000)
        if status != 200:
            raise RuntimeError(f"{status}: {body[:300]!r} for {query}")
        if "created_from" not in query and len(json.loads(body)["cases"]) != PAGE:
            raise RuntimeError(f"a short page for {query}: {body[:300]!r}")

    async def reader(url: str):
        connection = HttpConnection(url, headers)
        try:
            if mode == "burst":
                await connection.get("/api/staff/cases", {"limit": 1})  # connected before the first wave
                wave = 1
                while (at := began_at + wave * period) < deadline:
                    await asyncio.sleep(max(0.0, at - time.monotonic()))
                    await ask(connection)
                    wave = max(wave + 1, int((time.monotonic() - began_at) / period) + 1)  # a late one skips a wave
                return
            if mode == "open":  # out of step, or all of them would ask in the same instant
                await asyncio.sleep(random.uniform(0, 1 / rate))
            while time.monotonic() < deadline:
                began = time.perf_counter()
                await ask(connection)
                if mode == "open":
                    await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - began)))
        finally:
            await connection.close()

    await asyncio.gather(*(reader(urls[i % len(urls)]) for i in range(n)))
    return latencies


def cpu_ticks(servers: list[ServerProcess]) -> dict[str, int]:
    """CPU used so far by the server processes, by PostgreSQL's and by the whole machine (the
    load generator, Redis and the kernel included), in clock ticks."""
    postgres = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    name, fields = fh.read().rsplit(")", 1)
            except OSError:
                continue
            if name.endswith("(postgres"):
                postgres += int(fields.split()[11]) + int(fields.split()[12])
    with open("/proc/stat") as fh:
        times = [int(value) for value in fh.readline().split()[1:]]
    return {"server": sum(tree_cpu_ticks(server.proc.pid) for server in servers), "postgres": postgres,
            "machine": sum(times) - times[3] - times[4]}  # all but idle and iowait


def run_setup(name: str, a) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix=f"branchline-cases-{name}-"))
    database = None
    admin_dsn = "host=127.0.0.1 port=5432 dbname=test user=" + a.pg_user
    if name == "pg":
        database = f"branchline_cases_{os.getpid()}"
        with psycopg.connect(admin_dsn, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{database}"')
        url = f"postgres://{a.pg_user}@127.0.0.1:5432/{database}"
        services = {"redis_url": a.redis_url, "BRANCHLINE_BUS_CHANNEL": f"{database}:events",
                    "BRANCHLINE_CACHE_PREFIX": database}
    else:
        url, services = f"sqlite:///{tmp / 'db.sqlite3'}", {}
    env = server_env(settings="branchline.settings.production", database_url=url, BRANCHLINE_VAR_DIR=str(tmp),
                     **services, BRANCHLINE_TASK_WORKER_IN_PROCESS="0")
    results = []
    try:
        facts = seed(env, a.cases)
        # Separate processes on ports of their own, as README.md deploys them behind a load
        # balancer. (One uvicorn --workers N shares its listening socket: whichever process
        # wakes first accepts, and measured here all 20 keep-alive connections often went to
        # one of two processes, leaving the other idle.)
        with ExitStack() as stack:
            servers = [stack.enter_context(ServerProcess(env, log_path=tmp / f"server-{n}.log"))
                       for n in range(a.processes)]
            urls = [server.url for server in servers]
            headers = {who: signed_in(urls[0], who) for who in ("admin", "anna")}
            rng = random.Random(7)
            for label, who, params in scenarios(facts, rng):
                asyncio.run(readers(urls, headers[who], params, 2 * len(urls), 1.0, "closed"))  # warm up
                for mode in a.modes:
                    before = cpu_ticks(servers)
                    lat = asyncio.run(readers(urls, headers[who], params, a.readers, a.duration, mode,
                                              rate=a.rate, period=a.period))
                    used = {part: (ticks - before[part]) / CLK_TCK * 1000 / max(1, len(lat))
                            for part, ticks in cpu_ticks(servers).items()}
                    row = summary(f"{name} {label} ({mode})", lat, a.duration)
                    row.update(readers=a.readers, cases=a.cases, processes=a.processes, mode=mode,
                               **{f"{part}_cpu_ms_per_page": round(ms, 2) for part, ms in used.items()})
                    log(json.dumps(row))
                    results.append(row)
    finally:
        if database:
            drop_database(admin_dsn, database, a.redis_url)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setups", nargs="+", default=["pg", "sqlite"], choices=["pg", "sqlite"])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=1.0, help="pages per second per reader (open loop)")
    parser.add_argument("--period", type=float, default=0.5, help="seconds between waves (burst)")
    parser.add_argument("--modes", nargs="+", default=["open", "burst", "closed"], choices=["open", "burst", "closed"])
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--pg-user", default=os.environ.get("PGUSER", "root"))
    a = parser.parse_args()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results = []
    for name in a.setups:
        results += run_setup(name, a)
    out = HERE / "results" / f"cases-{stamp}.jsonl"
    out.parent.mkdir(exist_ok=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in results))
    print("| setup | readers | pages/s | p50 | p99 | p99.9 | CPU per page: server | PostgreSQL | machine |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['setup']} | {r['readers']} | {r['pages_per_s']} | {r['p50_ms']} ms | {r['p99_ms']} ms | "
              f"{r['p999_ms']} ms | {r['server_cpu_ms_per_page']} ms | {r['postgres_cpu_ms_per_page']} ms | "
              f"{r['machine_cpu_ms_per_page']} ms |")
    log(f"results in {out}")


if __name__ == "__main__":
    main()
