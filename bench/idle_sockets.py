"""Memory per idle socket: one server process, N signed-in customer sockets doing nothing.

    .venv/bin/python bench/idle_sockets.py                    # 10,000 sockets, SQLite
    .venv/bin/python bench/idle_sockets.py --sockets 2000 --db pg

Starts one uvicorn process (production settings) on 127.0.0.1 with a fresh database of its
own (a SQLite file in a temporary directory, or with --db pg a database
branchline_idle_<pid> on 127.0.0.1:5432, dropped at the end), creates N anonymous customer
sessions, then measures the server's resident memory (VmRSS):

  before      after a warm-up (a few sockets opened, used and closed again)
  open        with all N sockets open, each past `hello` -> `ready`, idle
  after       N sockets closed again (the server has dropped them)

and prints per-socket memory, (open - before) / N, and how much of it came back; --rounds 2
(the default) opens and closes them all a second time, which shows whether memory kept after
the first round is reused or leaked. --deflate offers permessage-deflate as browsers do.
Not part of `make test`: run it by hand. Everything is bounded (--budget seconds for the whole run,
a timeout on every wait); the server is stopped by its pid and the database removed at the
end, whatever happens. The per-socket caps are raised through the environment for this run
(all sockets come from 127.0.0.1), so that what is measured is the sockets, not the caps.
"""
import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
from tests.support.servers import ServerProcess, manage, server_env  # noqa: E402
from wsclient import connect  # noqa: E402

PG = "127.0.0.1", 5432, "test"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def raise_open_files(needed: int) -> int:
    """Raise this process's soft limit on open files (the server inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard == resource.RLIM_INFINITY else min(hard, max(soft, needed))
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < needed:
        raise SystemExit(f"the open-file limit is {want} (hard {hard}); {needed} are needed: lower --sockets")
    return want


SEED = """
import json
from django.db import transaction
from branchline.accounts.actions import customer_session_anonymous
with transaction.atomic():
    tokens = [customer_session_anonymous()[1] for _ in range({n})]
open({out!r}, "w").write(json.dumps(tokens))
"""


def seed_tokens(env: dict, n: int, out: Path) -> list[str]:
    p = manage("shell", "-c", SEED.format(n=n, out=str(out)), env=env, check=False)
    if p.returncode:
        raise RuntimeError(f"creating customer sessions failed:\n{p.stdout}\n{p.stderr}")
    return json.loads(out.read_text())


async def open_sockets(url: str, tokens: list[str], concurrency: int, timeout: float, deflate: bool = False) -> list:
    """Open one socket per token, send hello and wait for ready; return the clients.
    With `deflate`, offer permessage-deflate as browsers do (frames then arrive compressed)."""
    gate = asyncio.Semaphore(concurrency)
    headers = {"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"} if deflate else None
    loop = asyncio.get_running_loop()

    async def one(token):
        async with gate:
            ready = loop.create_future()

            def on_text(_client, payload):
                if not ready.done():
                    if deflate and not payload.startswith(b"{"):  # compressed, unless the server declined
                        payload = zlib.decompressobj(-zlib.MAX_WBITS).decompress(payload + b"\x00\x00\xff\xff")
                    frame = json.loads(payload)
                    if frame["type"] == "ready":
                        ready.set_result(True)
                    else:
                        ready.set_exception(RuntimeError(f"refused: {frame}"))

            client = await connect(url, on_text, headers=headers, timeout=timeout)
            client.send_text(json.dumps({"type": "hello", "token": token}).encode())
            try:
                await asyncio.wait_for(ready, timeout)
            except BaseException:
                client.close()
                raise
            return client

    results = await asyncio.gather(*(one(t) for t in tokens), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    clients = [r for r in results if not isinstance(r, BaseException)]
    if failures:
        for client in clients:
            client.close()
        raise RuntimeError(f"{len(failures)} of {len(tokens)} sockets failed, e.g. {failures[0]!r}")
    return clients


async def close_all(clients: list, timeout: float) -> None:
    for client in clients:
        client.close()
    await asyncio.wait_for(asyncio.gather(*(c.lost for c in clients), return_exceptions=True), timeout)


async def settled_rss(pid: int, seconds: float) -> int:
    """RSS once it has stopped moving (or after `seconds`); the client keeps answering pings."""
    deadline, last = time.monotonic() + seconds, rss_kib(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(1)
        now = rss_kib(pid)
        if abs(now - last) < 256:
            return now
        last = now
    return last


async def one_round(a, server: ServerProcess, tokens: list[str], before: int) -> dict:
    """Open a socket per token (all idle once ready), then close them all; RSS at each step."""
    pid = server.proc.pid
    started, cpu = time.monotonic(), cpu_seconds(pid)
    clients = await open_sockets(server.ws_url, tokens, a.concurrency, a.timeout, a.deflate)
    opened_in, cpu = time.monotonic() - started, cpu_seconds(pid) - cpu
    await asyncio.sleep(2)
    with_open = await settled_rss(pid, 15)
    log(f"open: {with_open / 1024:.1f} MiB ({len(clients)} sockets opened in {opened_in:.1f} s); closing them")
    await close_all(clients, a.timeout)
    await asyncio.sleep(3)
    after = await settled_rss(pid, 15)
    log(f"after: {after / 1024:.1f} MiB")
    grown = with_open - before
    return {"rss_open_mib": round(with_open / 1024, 1), "rss_after_mib": round(after / 1024, 1),
            "kib_per_socket": round(grown / len(clients), 1),
            "returned_pct": round(100 * (with_open - after) / grown, 1) if grown > 0 else None,
            "open_seconds": round(opened_in, 1), "server_cpu_ms_per_hello": round(1000 * cpu / len(clients), 2)}


async def measure(a, server: ServerProcess, tokens: list[str]) -> dict:
    pid = server.proc.pid
    warm = await open_sockets(server.ws_url, tokens[:50], 50, a.timeout, a.deflate)
    await close_all(warm, a.timeout)
    await asyncio.sleep(2)
    before = await settled_rss(pid, 10)
    figures = {"sockets": len(tokens), "db": a.db, "client_offers_deflate": a.deflate,
               "server_deflate": a.server_deflate, "rss_before_mib": round(before / 1024, 1),
               "rounds": []}
    for number in range(1, a.rounds + 1):
        log(f"round {number}: before {before / 1024:.1f} MiB; opening {len(tokens)} sockets")
        # A second round measured from the same baseline shows whether the memory the
        # first one kept is reused (no growth) or leaked (it adds up).
        figures["rounds"].append(await one_round(a, server, tokens, before))
    return figures


def pg_database(name: str, drop: bool = False) -> str:
    import psycopg

    for user in ("root", "postgres"):
        try:
            with psycopg.connect(host=PG[0], port=PG[1], dbname=PG[2], user=user, connect_timeout=3,
                                 autocommit=True) as admin:
                if drop:
                    admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                                  (name,))
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
                else:
                    admin.execute(f'CREATE DATABASE "{name}"')
                return f"postgres://{user}@{PG[0]}:{PG[1]}/{name}"
        except psycopg.OperationalError:
            continue
    raise SystemExit(f"PostgreSQL on {PG[0]}:{PG[1]} (trust auth, user root or postgres) is needed for --db pg")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sockets", type=int, default=10_000)
    ap.add_argument("--db", choices=("sqlite", "pg"), default="sqlite")
    ap.add_argument("--concurrency", type=int, default=200, help="handshakes in flight at once")
    ap.add_argument("--timeout", type=float, default=60, help="seconds for any one wait")
    ap.add_argument("--rounds", type=int, default=2, help="open-and-close rounds (the 2nd shows reuse)")
    ap.add_argument("--budget", type=float, default=420, help="seconds for the whole run")
    ap.add_argument("--deflate", action="store_true", help="offer permessage-deflate, as browsers do")
    ap.add_argument("--server-deflate", choices=("true", "false"), default="false",
                    help="uvicorn --ws-per-message-deflate (false: what the Makefile runs; true: uvicorn's default)")
    ap.add_argument("--json", help="also write the figures here")
    a = ap.parse_args()

    raise_open_files(a.sockets + 200)
    tmp = Path(tempfile.mkdtemp(prefix="branchline-idle-"))
    db_name = f"branchline_idle_{os.getpid()}"
    database_url = pg_database(db_name) if a.db == "pg" else f"sqlite:///{tmp / 'idle.sqlite3'}"
    env = server_env(settings="branchline.settings.production", database_url=database_url, redis_url="",
                     BRANCHLINE_VAR_DIR=str(tmp), LOG_LEVEL="WARNING",
                     BRANCHLINE_SOCKETS_PER_ADDRESS=str(a.sockets + 100))
    server, failed = None, True
    watchdog = threading.Timer(a.budget, lambda: os.kill(os.getpid(), signal.SIGINT))
    watchdog.daemon = True
    watchdog.start()
    try:
        manage("migrate", "--noinput", "-v", "0", env=env)
        log(f"creating {a.sockets} customer sessions")
        tokens = seed_tokens(env, a.sockets, tmp / "tokens.json")
        server = ServerProcess(env, log_path=tmp / "server.log",
                               uvicorn_args=("--ws-per-message-deflate", a.server_deflate)).start()
        log(f"server pid {server.proc.pid} on {server.url} ({a.db})")
        figures = asyncio.run(measure(a, server, tokens))
        print(json.dumps(figures))
        if a.json:
            Path(a.json).write_text(json.dumps(figures) + "\n")
        failed = False
    except KeyboardInterrupt:
        raise SystemExit(f"stopped: over the {a.budget:.0f} s budget")
    finally:
        watchdog.cancel()
        if server is not None:
            server.stop()
            if failed and (tmp / "server.log").exists():
                tail = (tmp / "server.log").read_text(errors="replace").splitlines()[-20:]
                print("server log (last lines):\n" + "\n".join(tail), file=sys.stderr)
        if a.db == "pg":
            pg_database(db_name, drop=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except subprocess.TimeoutExpired as exc:
        raise SystemExit(f"timed out: {exc}")
