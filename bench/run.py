"""Start the benchmark setups, drive them with bench/load.py, print and save the results.

    .venv/bin/python bench/run.py                       # both setups, rates 200 500 1000, 10 s each
    .venv/bin/python bench/run.py --setups pg --rates 500 --duration 5
    .venv/bin/python bench/run.py --raw                 # also the raw pipeline (../shared/bench-limits)
    .venv/bin/python bench/run.py --raw-results /tmp/benchlimits/results-XXXX.jsonl

Setups (everything on 127.0.0.1; every process started here is stopped here, by its pid):

  sqlite  one uvicorn process, a fresh SQLite file in a temporary directory, the in-process
          bus (no REDIS_URL). Server pinned to CPU 0, load generator to CPU 1.
  pg      two uvicorn processes on a fresh PostgreSQL database branchline_bench_<pid>
          (created on 127.0.0.1:5432 via database `test`, dropped at the end) and Redis
          127.0.0.1:6379 with a bus channel and cache prefix of their own. Customers are
          connected to process A (pinned to CPU 0), agents to process B (pinned to CPU 1);
          the load generator, PostgreSQL and Redis share both cores, as in
          ../shared/bench-limits/pipeline_bench.py.

Each setup: migrate, seed_demo, bench agents (bench/seed_agents.py), start the server(s), one
load.py run over all --rates, stop. Results: bench/results/run-<time>.jsonl (RESULT lines)
and run-<time>.md (the tables printed at the end); server logs beside them.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from tests.support.servers import ServerProcess, manage, server_env  # noqa: E402

LIMITS_DIR = ROOT.parent / "shared" / "bench-limits"
BENCH_VENV_PY = "/tmp/benchvenv/bin/python"
GENEROUS = {  # per-sender rate limits, far above what the bench sends per customer
    "BRANCHLINE_MESSAGE_RATE": "100000", "BRANCHLINE_MESSAGE_BURST": "100000",
    "BRANCHLINE_FRAME_RATE": "100000", "BRANCHLINE_FRAME_BURST": "100000",
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pin_process(pid: int, cpu: int | None) -> None:
    """Pin every thread of `pid` (threads created later inherit from the main thread)."""
    if cpu is None:
        return
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), {cpu})
        except OSError:
            pass


def prepare_db(env: dict, agents: int, sessions_path: Path) -> None:
    for args in (("migrate", "--noinput", "-v", "0"), ("seed_demo",)):
        p = manage(*args, env=env, check=False)
        if p.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}")
    p = subprocess.run([sys.executable, str(HERE / "seed_agents.py"), "--agents", str(agents), "--out", str(sessions_path)],
                       env=env, capture_output=True, text=True, timeout=180)
    if p.returncode:
        raise RuntimeError(f"seed_agents.py failed:\n{p.stdout}\n{p.stderr}")


def run_load(a, label: str, customer_url: str, agent_url: str, sessions: Path, cpu: int | None,
             watch: dict[str, int], sink, profile_pids: dict[str, int], outdir: Path, stamp: str,
             watch_match: dict[str, str] | None = None) -> list[dict]:
    cmd = [sys.executable, str(HERE / "load.py"), "--label", label, "--customer-url", customer_url,
           "--agent-url", agent_url, "--customers", str(a.customers), "--agents", str(a.agents),
           "--rate", *[str(r) for r in a.rates], "--duration", str(a.duration), "--warmup", str(a.warmup),
           "--drain", str(a.drain), "--agent-sessions", str(sessions),
           "--watch", *[f"{k}={v}" for k, v in watch.items()]]
    if watch_match:
        cmd += ["--watch-match", *[f"{k}={v}" for k, v in watch_match.items()]]
    if cpu is not None:
        cmd += ["--cpu", str(cpu)]
    budget = 120 + len(a.rates) * (a.warmup + a.duration + a.drain + 3)
    profilers = []
    if a.profile:
        # Sample the server(s) for the whole load run (setup included: see the flame graph's
        # realtime/handlers frames for the measured path).
        for name, pid in profile_pids.items():
            out = outdir / f"{stamp}-{label}-{name}.speedscope.json"
            profilers.append(subprocess.Popen(
                [a.py_spy, "record", "-p", str(pid), "-o", str(out), "-f", "speedscope", "-r", "200",
                 "-d", str(int(budget)), "--nonblocking", "--threads"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    log(f"{label}: load.py {' '.join(cmd[2:])}")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    results = []

    def over_budget():
        log(f"{label}: load.py over its time budget ({budget:.0f}s); stopping it")
        proc.send_signal(signal.SIGTERM)

    timer = threading.Timer(budget, over_budget)
    timer.start()
    try:
        for line in proc.stdout:
            if line.startswith("RESULT "):
                results.append(json.loads(line[7:]))
                sink.write(line[7:])
                sink.flush()
        proc.wait(timeout=10)
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in profilers:
            p.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
    return results


def setup_sqlite(a, sink, outdir: Path, stamp: str) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix="branchline-bench-"))
    server = None
    try:
        env = server_env(settings=a.sqlite_settings, database_url=f"sqlite:///{tmp / 'bench.sqlite3'}",
                         redis_url="", BRANCHLINE_VAR_DIR=str(tmp), LOG_LEVEL="WARNING", **GENEROUS)
        sessions = tmp / "sessions.json"
        log(f"sqlite: preparing {tmp / 'bench.sqlite3'} ({a.sqlite_settings})")
        prepare_db(env, a.agents, sessions)
        server = ServerProcess(env, log_path=outdir / f"{stamp}-sqlite-server.log").start()
        pin_process(server.proc.pid, 0 if a.pin else None)
        log(f"sqlite: server pid {server.proc.pid} on {server.url}")
        return run_load(a, "sqlite-1proc", server.url, server.url, sessions, 1 if a.pin else None,
                        {"server": server.proc.pid}, sink, {"server": server.proc.pid}, outdir, stamp)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def setup_pg(a, sink, outdir: Path, stamp: str) -> list[dict]:
    import psycopg
    import redis

    tag = f"branchline_bench_{os.getpid()}"
    admin_dsn = a.pg_admin_dsn
    servers: list[ServerProcess] = []
    tmp = Path(tempfile.mkdtemp(prefix="branchline-bench-"))
    created = False
    try:
        with psycopg.connect(admin_dsn, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{tag}"')
        created = True
        info = psycopg.conninfo.conninfo_to_dict(admin_dsn)
        db_url = f"postgres://{info.get('user', 'postgres')}@{info.get('host', '127.0.0.1')}:{info.get('port', 5432)}/{tag}"
        env = server_env(settings="branchline.settings.production", database_url=db_url, redis_url=a.redis_url,
                         BRANCHLINE_BUS_CHANNEL=f"{tag}:events", BRANCHLINE_CACHE_PREFIX=tag,
                         BRANCHLINE_VAR_DIR=str(tmp), LOG_LEVEL="WARNING", **GENEROUS)
        sessions = tmp / "sessions.json"
        log(f"pg: preparing database {tag}, redis {a.redis_url} channel {tag}:events")
        prepare_db(env, a.agents, sessions)
        for i, name in enumerate("AB"):
            s = ServerProcess(env, log_path=outdir / f"{stamp}-pg-server-{name}.log").start()
            servers.append(s)
            pin_process(s.proc.pid, i if a.pin else None)
        A, B = servers
        log(f"pg: process A pid {A.proc.pid} on {A.url} (customers), B pid {B.proc.pid} on {B.url} (agents)")
        pids = {"A": A.proc.pid, "B": B.proc.pid}
        redis_port = a.redis_url.split("://", 1)[1].split("/")[0].rsplit(":", 1)[-1]
        return run_load(a, "pg-redis-2proc", A.url, B.url, sessions, None, pids, sink, pids, outdir, stamp,
                        {"pg": f" {tag} ", "redis": f"redis-server 127.0.0.1:{redis_port}"})
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        if created:
            try:
                with psycopg.connect(admin_dsn, autocommit=True) as c:
                    c.execute(f'DROP DATABASE IF EXISTS "{tag}" WITH (FORCE)')
            except Exception as exc:
                log(f"pg: could not drop {tag}: {exc!r}")
        try:
            r = redis.Redis.from_url(a.redis_url)
            keys = list(r.scan_iter(match=f"{tag}:*", count=1000))
            if keys:
                r.delete(*keys)
        except Exception as exc:
            log(f"pg: could not clean redis keys {tag}:*: {exc!r}")


def run_raw(a, sink) -> list[dict]:
    """The raw pipeline of ../shared/bench-limits (needs its services.sh start and /tmp/benchvenv)."""
    cmd = [BENCH_VENV_PY, str(LIMITS_DIR / "pipeline_bench.py"), "--conversations", "500",
           "--rates", *[str(int(r)) for r in a.rates], "--duration", str(a.raw_duration)]
    log("raw: " + " ".join(cmd))
    try:
        p = subprocess.run(cmd, cwd=LIMITS_DIR, capture_output=True, text=True,
                           timeout=60 + len(a.rates) * (a.raw_duration + 3) + a.raw_duration + 3)
    except subprocess.TimeoutExpired:
        log("raw: pipeline_bench.py timed out")
        return []
    if p.returncode:
        log(f"raw: pipeline_bench.py failed (is ../shared/bench-limits/services.sh started?)\n{p.stderr[-2000:]}")
    rows = []
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            rows.append(json.loads(line[7:]))
            sink.write(line[7:] + "\n")
    return rows


def load_raw(path: str) -> list[dict]:
    return [r for r in (json.loads(l) for l in open(path) if l.strip()) if r.get("suite") == "pipeline"]


def fmt_ratio(ours, raw):
    if ours is None or not raw:
        return "-"
    return f"{ours / raw:.2f}"


def summary(results: list[dict], raw: list[dict], target_p99: float, target_rate: float) -> str:
    out = ["### Branchline: customer WS -> persist -> (bus) -> agent WS\n",
           "| setup | offered/s | delivered/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | ack p50/p99 ms | lost | dup "
           "| unacked | errors | load-gen CPU% | server CPU% | machine CPU% (of 200) |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---|---:|"]
    for r in results:
        L, A = r["latency"], r["ack_latency"]
        errs = ",".join(f"{k}={v}" for k, v in r["errors"].items()) or "0"
        srv = " ".join(f"{k}={v}" for k, v in r["server_cpu_pct"].items())
        out.append(f"| {r['label']} | {r['offered_per_s']:g} | {r['delivered_per_s']} | {L.get('p50_ms')} | "
                   f"{L.get('p90_ms')} | {L.get('p99_ms')} | {L.get('p999_ms')} | {L.get('max_ms')} | "
                   f"{A.get('p50_ms')}/{A.get('p99_ms')} | {r['lost']} | {r['dup']} | {r['unacked']} | {errs} | "
                   f"{r['client_cpu_pct']} | {srv} | {r['machine_cpu_pct']} |")
    paced = {r["offered_per_s"]: r for r in raw if r.get("mode") == "paced"}
    closed = [r for r in raw if r.get("mode") == "closed-loop"]
    if raw:
        out += ["\n### Raw pipeline (bench-limits pipeline_bench: websockets + psycopg + redis.asyncio, 2 processes) "
                "and ratios (ours / raw)\n",
                "| setup | offered/s | raw delivered/s | raw p50 | raw p90 | raw p99 ms | ours/raw delivered | ours/raw p50 "
                "| ours/raw p90 | ours/raw p99 |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in results:
            w = paced.get(r["offered_per_s"])
            if not w:
                continue
            L, W = r["latency"], w["latency"]
            out.append(f"| {r['label']} | {r['offered_per_s']:g} | {w['delivered_per_s']} | {W.get('p50_ms')} | "
                       f"{W.get('p90_ms')} | {W.get('p99_ms')} | {fmt_ratio(r['delivered_per_s'], w['delivered_per_s'])} | "
                       f"{fmt_ratio(L.get('p50_ms'), W.get('p50_ms'))} | {fmt_ratio(L.get('p90_ms'), W.get('p90_ms'))} | "
                       f"{fmt_ratio(L.get('p99_ms'), W.get('p99_ms'))} |")
        for c in closed:
            out.append(f"\nraw closed-loop max: {c['delivered_per_s']} msgs/s delivered, p99 {c['latency'].get('p99_ms')} ms")
    verdicts = []
    for r in results:
        if r["label"].startswith("pg") and r["offered_per_s"] == target_rate:
            ok = (r["latency"].get("p99_ms") or 1e9) <= target_p99 and r["lost"] == 0 and r["unacked"] == 0 \
                and r["delivered_per_s"] >= 0.98 * target_rate
            verdicts.append(f"target (pg, {target_rate:g} msgs/s, p99 <= {target_p99:g} ms, nothing lost): "
                            f"{'MET' if ok else 'MISSED'} (p99 {r['latency'].get('p99_ms')} ms, lost {r['lost']}, "
                            f"unacked {r['unacked']}, delivered {r['delivered_per_s']}/s)")
    if verdicts:
        out.append("\n" + "\n".join(verdicts))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--setups", nargs="+", choices=["sqlite", "pg"], default=["sqlite", "pg"])
    ap.add_argument("--rates", type=float, nargs="+", default=[200, 500, 1000])
    ap.add_argument("--duration", type=float, default=10, help="measured seconds per rate")
    ap.add_argument("--warmup", type=float, default=1)
    ap.add_argument("--drain", type=float, default=10)
    ap.add_argument("--customers", type=int, default=500)
    ap.add_argument("--agents", type=int, default=20)
    ap.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin servers / load generator to CPUs")
    ap.add_argument("--sqlite-settings", default="branchline.settings.production",
                    help="settings module for the SQLite setup (branchline.settings.demo runs with DEBUG=True)")
    ap.add_argument("--pg-admin-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=test")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--raw", action="store_true", help="also run bench-limits pipeline_bench.py (same rates)")
    ap.add_argument("--raw-duration", type=float, default=5)
    ap.add_argument("--raw-results", help="take raw pipeline figures from a bench-limits results .jsonl")
    ap.add_argument("--profile", action="store_true", help="py-spy record the server(s) (speedscope files in results/)")
    ap.add_argument("--py-spy", default=shutil.which("py-spy") or "/tmp/benchvenv/bin/py-spy")
    ap.add_argument("--target-p99", type=float, default=20)
    ap.add_argument("--target-rate", type=float, default=500)
    ap.add_argument("--out", default=str(HERE / "results"))
    a = ap.parse_args()

    outdir = Path(a.out)
    outdir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("run-%Y%m%d-%H%M%S")
    jsonl = outdir / f"{stamp}.jsonl"
    results, raw = [], []
    with open(jsonl, "w") as sink:
        sink.write(json.dumps({"suite": "meta", "time": time.time(), "nproc": os.cpu_count(),
                               "loadavg": os.getloadavg(), "args": vars(a)}) + "\n")
        for name in a.setups:
            try:
                results += (setup_sqlite if name == "sqlite" else setup_pg)(a, sink, outdir, stamp)
            except Exception as exc:
                log(f"{name}: FAILED: {exc!r}")
        if a.raw:
            raw = run_raw(a, sink)
    if a.raw_results:
        raw = load_raw(a.raw_results)
    text = summary(results, raw, a.target_p99, a.target_rate)
    (outdir / f"{stamp}.md").write_text(text + "\n")
    print(text)
    print(f"\nresults: {jsonl}")


if __name__ == "__main__":
    main()
