"""History paging under load: one authenticated customer with 100,000 messages (across 100
conversations, a tenth of the items staff-only notes), 50 concurrent readers paging 50-item
pages through the customer's history (customer view) and the staff history view.

    .venv/bin/python bench/history.py                   # PostgreSQL and SQLite, 20 s each
    .venv/bin/python bench/history.py --setups pg --duration 10 --rate 4

Each reader is a loop: pick a random page depth, read one page over HTTP, sleep so that each
reader asks `--rate` pages per second (open loop: 50 readers x 1/s = 50 pages/s by default);
then a closed-loop pass (no sleep) gives the maximum. Latency is client-measured, end to end,
each reader on its own keep-alive connection (bench/httpclient.py: a lean client, so that
the load generator's CPU on the same two cores is not what is measured).
One uvicorn process on 127.0.0.1, started and stopped here by its pid; a fresh database
(PostgreSQL: branchline_hist_<pid>, dropped at the end; SQLite: a temporary file).
Target (issue 5): p99 <= 10 ms for a 50-item page at 50 concurrent readers."""
import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg
import redis

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
from httpclient import HttpConnection  # noqa: E402
from load import proc_cpu_ticks  # noqa: E402
from tests.support.servers import ServerProcess, manage, server_env, staff_sign_in  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")

MESSAGES, CONVERSATIONS, PAGE = 100_000, 100, 50


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


SEED = r'''
import os, django
django.setup()
from datetime import timedelta
from django.db import connection, transaction
from django.utils import timezone
from branchline.accounts.models import User
from branchline.cases.models import Topic
from branchline.contacts.models import Customer
from branchline.conversations import actions
from branchline.conversations.models import Conversation, Message, Participant
from branchline.accounts.actions import customer_session_start
from branchline.accounts.principals import Principal

# The conversations are started and accepted through the actions; their 100,000 items are
# then bulk-inserted (a seed, not the product's write path) with dense numbers.
customer = Customer.objects.get(name="Jan Kowalski")
agent = User.objects.get(username="anna")
topic = Topic.objects.order_by("position").first()
me, them = Principal.of_customer(customer), Principal.of_staff(agent)
per = MESSAGES // CONVERSATIONS
start = timezone.now() - timedelta(days=400)
for c in range(CONVERSATIONS):
    first, _ = actions.customer_message_send(principal=me, body="start", client_message_id=f"h-{c}", topic_id=topic.id)
    cid = first.conversation_id
    actions.conversation_accept(principal=them, conversation_id=cid)
    actions.conversation_end(principal=them, conversation_id=cid)
    conv = Conversation.objects.get(pk=cid)
    seq, staff_seq, rows = conv.last_seq, conv.last_staff_seq, []
    for n in range(per):
        note = n % 10 == 9
        staff_seq += 1
        if not note:
            seq += 1
        rows.append(Message(conversation_id=cid, customer_id=customer.id, seq=None if note else seq,
                            staff_seq=staff_seq, sender="customer" if n % 2 == 0 and not note else "agent",
                            kind="note" if note else "text", visibility="staff" if note else "public",
                            author_id=None if n % 2 == 0 and not note else agent.id,
                            body=f"history message {c}-{n} " + "x" * 80,
                            created_at=start + timedelta(minutes=c * per + n)))
    with transaction.atomic():
        Message.objects.bulk_create(rows, batch_size=2000)
        Conversation.objects.filter(pk=cid).update(last_seq=seq, last_staff_seq=staff_seq)
# A database that has lived has planner statistics and a visibility map (autovacuum keeps
# them); one bulk-filled a moment ago has neither, pages would be planned as if the table
# were empty, and autovacuum would start on the 100,000 new rows during the first phase.
with connection.cursor() as cursor:
    cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
print(Message.objects.filter(customer=customer).count(), Conversation.objects.filter(customer=customer).last().pk,
      customer_session_start(customer=customer))
'''


def seed(env: dict) -> int:
    for args in (("migrate", "--noinput", "-v", "0"), ("seed_demo",)):
        result = manage(*args, env=env, check=False)
        if result.returncode:
            raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    code = f"MESSAGES, CONVERSATIONS = {MESSAGES}, {CONVERSATIONS}\n" + SEED
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT,
                         timeout=1800)
    if out.returncode:
        raise SystemExit(f"seeding failed:\n{out.stderr[-3000:]}")
    total, last_conversation, token = out.stdout.split()
    log(f"seeded {total} messages; the staff view pages through conversation {last_conversation}")
    return int(last_conversation), token


def staff_cookie(url: str) -> dict:
    staff = httpx.Client(base_url=url)
    staff_sign_in(staff, "anna", "branchline-demo").raise_for_status()
    return {"Cookie": f"sessionid={staff.cookies['sessionid']}"}


async def readers(urls: list[str], path: str, headers: dict, ids: list[int], n: int, rate: float | None,
                  duration: float) -> list[float]:
    """n readers, each on its own connection to one of the server processes (dealt
    round-robin, as a load balancer would)."""
    latencies: list[float] = []
    deadline = time.monotonic() + duration

    async def reader(url: str):
        rng = random.Random()
        connection = HttpConnection(url, headers)  # each reader its own keep-alive connection, as a browser tab
        if rate:  # readers start out of step, or all of them would ask in the same instant
            await asyncio.sleep(rng.uniform(0, 1 / rate))
        try:
            while time.monotonic() < deadline:
                before_id = rng.choice(ids)
                began = time.perf_counter()
                status, body = await connection.get(path, {"limit": PAGE, "before_id": before_id})
                latencies.append((time.perf_counter() - began) * 1000)
                if status != 200 or len(json.loads(body)["messages"]) != PAGE:
                    raise RuntimeError(f"{status}: {body[:200]!r}")
                if rate:
                    await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - began)))
        finally:
            await connection.close()

    await asyncio.gather(*(reader(urls[i % len(urls)]) for i in range(n)))
    return latencies


def summary(label: str, latencies: list[float], duration: float) -> dict:
    ordered = sorted(latencies)

    def pct(p):
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 2)

    return {"setup": label, "pages": len(ordered), "pages_per_s": round(len(ordered) / duration, 1),
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "p999_ms": pct(0.999),
            "mean_ms": round(statistics.fmean(ordered), 2)}


def tree_cpu_ticks(pid: int) -> int:
    """CPU of the server and its worker processes (uvicorn --workers)."""
    total = proc_cpu_ticks(pid) or 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pid:
                total += proc_cpu_ticks(int(entry)) or 0
    return total


def profile(a, pid: int, label: str) -> subprocess.Popen:
    """py-spy (samples of the thread holding the GIL) on the server for one measured phase;
    summarise with bench/profile_summary.py. It costs CPU: take no figures from a profiled run."""
    out = HERE / "results" / f"history-{a.stamp}-{label.replace(' ', '-')}.speedscope.json"
    out.parent.mkdir(exist_ok=True)
    return subprocess.Popen([a.py_spy, "record", "-p", str(pid), "-o", str(out), "-f", "speedscope", "-r", "250",
                             "--gil", "--nonblocking", "-d", str(int(a.duration) + 5)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_setup(name: str, a) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix=f"branchline-hist-{name}-"))
    admin_dsn, database = None, None
    if name == "pg":
        database = f"branchline_hist_{os.getpid()}"
        admin_dsn = "host=127.0.0.1 port=5432 dbname=test user=" + a.pg_user
        with psycopg.connect(admin_dsn, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{database}"')
        url = f"postgres://{a.pg_user}@127.0.0.1:5432/{database}"
        # PostgreSQL deployments run Redis too: the page budget is a Redis call per page.
        services = {"redis_url": a.redis_url, "BRANCHLINE_BUS_CHANNEL": f"{database}:events",
                    "BRANCHLINE_CACHE_PREFIX": database}
    else:
        url, services = f"sqlite:///{tmp / 'db.sqlite3'}", {}
    # Production settings (DEBUG off), as a bank runs it; the customer's token comes from the seed.
    env = server_env(settings="branchline.settings.production", database_url=url, BRANCHLINE_VAR_DIR=str(tmp),
                     **services, BRANCHLINE_TASK_WORKER_IN_PROCESS="0", BRANCHLINE_MESSAGE_BURST="1000000",
                     BRANCHLINE_HISTORY_PAGES_BURST="100000000")  # all readers are one customer here
    results = []
    try:
        last_conversation, token = seed(env)
        # Processes on ports of their own, as README.md deploys them behind a load balancer:
        # one `uvicorn --workers N` lets whichever process wakes first accept, and all the
        # keep-alive connections often went to one of them (bench/README.md, the Cases list).
        with ExitStack() as stack:
            servers = [stack.enter_context(ServerProcess(env, log_path=tmp / f"server-{n}.log"))
                       for n in range(a.processes)]
            urls = [server.url for server in servers]
            cookie = staff_cookie(urls[0])
            ids_page = httpx.get(urls[0] + "/api/customer/messages", params={"limit": 1},
                                 headers={"Authorization": f"Bearer {token}"}).json()["messages"][0]["id"]
            # Page boundaries anywhere in the history (ids are dense enough: bulk-inserted).
            ids = [ids_page - k for k in range(0, MESSAGES - 2 * PAGE * 2, 997)]
            views = [("customer", "/api/customer/messages", {"Authorization": f"Bearer {token}"}),
                     ("staff", f"/api/staff/conversations/{last_conversation}/history", cookie)]
            pids = [server.proc.pid for server in servers]
            for view, path, headers in views:
                asyncio.run(readers(urls, path, headers, ids, 5 * len(urls), a.rate, 2))  # warm up
                for mode, rate in (("open", a.rate), ("closed", None)):
                    label = f"{name} {view} {mode}" + (f" {a.processes}proc" if a.processes > 1 else "")
                    profiler = profile(a, pids[0], label) if a.profile else None  # the first process
                    ticks, client = sum(map(tree_cpu_ticks, pids)), time.process_time()
                    lat = asyncio.run(readers(urls, path, headers, ids, a.readers, rate, a.duration))
                    ticks, client = sum(map(tree_cpu_ticks, pids)) - ticks, time.process_time() - client
                    if profiler:
                        profiler.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
                        profiler.wait(30)
                    row = summary(label, lat, a.duration)
                    row.update(readers=a.readers, rate_per_reader=rate,
                               server_cpu_ms_per_page=round(ticks / CLK_TCK * 1000 / max(1, len(lat)), 2),
                               client_cpu_ms_per_page=round(client * 1000 / max(1, len(lat)), 2))
                    log(json.dumps(row))
                    results.append(row)
    finally:
        if database:
            drop_database(admin_dsn, database, a.redis_url)
    return results


def drop_database(admin_dsn: str, database: str, redis_url: str) -> None:
    """The run's PostgreSQL database, and its Redis keys (its cache prefix and bus channel)."""
    with psycopg.connect(admin_dsn, autocommit=True) as c:
        c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))
        c.execute(f'DROP DATABASE IF EXISTS "{database}"')
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    keys = list(client.scan_iter(match=f"{database}:*", count=1000))
    if keys:
        client.delete(*keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setups", nargs="+", default=["pg", "sqlite"], choices=["pg", "sqlite"])
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--rate", type=float, default=1.0, help="pages per second per reader (open loop)")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="beside PostgreSQL")
    parser.add_argument("--pg-user", default=os.environ.get("PGUSER", "root"))
    parser.add_argument("--processes", type=int, default=1,
                        help="server processes, each on its own port, the readers dealt round-robin "
                             "(a deployment runs one per core behind a load balancer)")
    parser.add_argument("--profile", action="store_true", help="py-spy record the server in each phase")
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "/tmp/benchvenv/bin/py-spy")
    a = parser.parse_args()
    a.stamp = time.strftime("%Y%m%d-%H%M%S")
    rows = [row for name in a.setups for row in run_setup(name, a)]
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    path = out / f"history-{a.stamp}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print("| setup | readers | pages/s | p50 | p99 | p99.9 | CPU per page: server / client |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['setup']} | {r['readers']} | {r['pages_per_s']} | {r['p50_ms']} ms | {r['p99_ms']} ms "
              f"| {r['p999_ms']} ms | {r['server_cpu_ms_per_page']} / {r['client_cpu_ms_per_page']} ms |")
    log(f"results in {path}")


if __name__ == "__main__":
    main()
