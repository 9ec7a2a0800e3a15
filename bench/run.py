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

sys.path.insert(0, str(HERE))
from load import ms, table  # noqa: E402

LIMITS_DIR = ROOT.parent / "shared" / "bench-limits"
BENCH_VENV_PY = "/tmp/benchvenv/bin/python"
GENEROUS = {  # per-sender rate limits, far above what the bench sends per customer
    "BRANCHLINE_MESSAGE_RATE": "100000", "BRANCHLINE_MESSAGE_BURST": "100000",
    "BRANCHLINE_FRAME_RATE": "100000", "BRANCHLINE_FRAME_BURST": "100000",
    "BRANCHLINE_ANONYMOUS_SESSIONS_PER_MINUTE": "1000000",
    # Every bench customer connects from 127.0.0.1: lift the per-address socket cap.
    "BRANCHLINE_SOCKETS_PER_ADDRESS": "100000",
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


def git_state() -> dict:
    """The code being measured: HEAD and whether src/ has uncommitted changes."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    import hashlib

    diff = git("diff", "HEAD", "--", "src")
    return {"head": git("rev-parse", "--short", "HEAD"), "src_dirty": bool(git("status", "--porcelain", "src")),
            "src_diff_sha1": hashlib.sha1(diff.encode()).hexdigest()[:10] if diff else None,
            "src_diff_files": git("diff", "HEAD", "--name-only", "--", "src").split()}


def wait_quiet(a) -> float:
    """Wait (bounded) until the machine is mostly idle; return the last busy% (of 100 * cores)."""
    def busy_pct(interval=1.0):
        def snap():
            with open("/proc/stat") as fh:
                v = [int(x) for x in fh.readline().split()[1:]]
            return sum(v) - v[3] - v[4], sum(v)
        b0, t0 = snap()
        time.sleep(interval)
        b1, t1 = snap()
        return (b1 - b0) / max(1, t1 - t0) * 100 * os.cpu_count()

    deadline = time.monotonic() + a.quiet_wait
    busy = busy_pct()
    while busy > a.quiet_threshold and time.monotonic() < deadline:
        log(f"machine busy {busy:.0f}% (of {100 * os.cpu_count()}): waiting for <= {a.quiet_threshold:g}%")
        time.sleep(4)
        busy = busy_pct()
    if busy > a.quiet_threshold:
        log(f"machine still busy ({busy:.0f}%); measuring anyway (see other CPU% in the results)")
    return busy


def prepare_db(env: dict, agents: int, sessions_path: Path) -> None:
    for args in (("migrate", "--noinput", "-v", "0"), ("seed_demo",)):
        p = manage(*args, env=env, check=False)
        if p.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}")
    p = subprocess.run([sys.executable, str(HERE / "seed_agents.py"), "--agents", str(agents),
                        "--out", str(sessions_path)], env=env, capture_output=True, text=True, timeout=180)
    if p.returncode:
        raise RuntimeError(f"seed_agents.py failed:\n{p.stdout}\n{p.stderr}")


def run_load(a, label: str, customer_url: str, agent_url: str, sessions: Path, cpu: int | None,
             watch: dict[str, int], sink, profile_pids: dict[str, int], outdir: Path, stamp: str,
             watch_match: dict[str, str] | None = None) -> list[dict]:
    cmd = [sys.executable, str(HERE / "load.py"), "--label", label, "--customer-url", customer_url,
           "--agent-url", agent_url, "--customers", str(a.customers), "--agents", str(a.agents),
           "--rate", *[str(r) for r in a.rates], "--duration", str(a.duration), "--warmup", str(a.warmup),
           "--drain", str(a.drain), "--recover", str(a.recover), "--agent-sessions", str(sessions),
           "--watch", *[f"{k}={v}" for k, v in watch.items()]]
    if a.closed_loop:
        cmd.append("--closed-loop")
    if watch_match:
        cmd += ["--watch-match", *[f"{k}={v}" for k, v in watch_match.items()]]
    if cpu is not None:
        cmd += ["--cpu", str(cpu)]
    budget = 180 + (len(a.rates) + a.closed_loop) * (a.warmup + a.duration + a.drain + a.recover + 3)
    if a.profile:
        # py-spy, GIL-holder samples, on the server(s) during each measured window only
        # (summarise with bench/profile_summary.py). It costs CPU: don't mix with a figures run.
        cmd += ["--profile", *[f"{k}={v}" for k, v in profile_pids.items()], "--py-spy", a.py_spy,
                "--profile-dir", str(outdir), "--profile-tag", f"{stamp}-"]
    idle_busy = wait_quiet(a)
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
                r = json.loads(line[7:])
                r["busy_before_pct"] = round(idle_busy, 1)
                r["code"] = a.code["head"] + ("+dirty" if a.code["src_dirty"] else "")
                r["servers_ready_monotonic_s"] = a.servers_ready
                results.append(r)
                sink.write(json.dumps(r) + "\n")
                sink.flush()
        proc.wait(timeout=10)
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
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
        a.servers_ready = round(time.monotonic(), 3)  # its periodic jobs count from about here
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
        db_url = (f"postgres://{info.get('user', 'postgres')}@{info.get('host', '127.0.0.1')}:"
                  f"{info.get('port', 5432)}/{tag}")
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
        a.servers_ready = round(time.monotonic(), 3)  # their periodic jobs count from about here
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
    if not a.closed_loop:
        cmd.append("--no-closed-loop")
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
    return [r for r in (json.loads(line) for line in open(path) if line.strip()) if r.get("suite") == "pipeline"]


def fmt_ratio(ours, raw):
    if ours is None or not raw:
        return "-"
    return f"{ours / raw:.2f}"


def summary(results: list[dict], raw: list[dict], target_p99: float, target_rate: float) -> str:
    out = ["### Branchline: customer WS -> persist -> (bus) -> agent WS\n", table(results)]
    paced = {r["offered_per_s"]: r for r in raw if r.get("mode") == "paced"}
    closed = [r for r in raw if r.get("mode") == "closed-loop"]
    if raw:
        out += ["\n### Beside the raw pipeline (bench-limits pipeline_bench.py: websockets + psycopg + redis.asyncio, "
                "2 processes, same sitting); ratio = ours / raw\n",
                "| setup | offered/s | delivered/s ours / raw (ratio) | p50 ms ours / raw (ratio) "
                "| p90 ms ours / raw (ratio) | p99 ms ours / raw (ratio) |",
                "|---|---:|---|---|---|---|"]
        for r in results:
            w = paced.get(r["offered_per_s"]) if r["offered_per_s"] is not None else (closed[0] if closed else None)
            if not w:
                continue
            L, W = r["latency"], w["latency"]
            offered = "max (closed loop)" if r["offered_per_s"] is None else f"{r['offered_per_s']:g}"
            cells = [f"{r['delivered_per_s']} / {w['delivered_per_s']} "
                     f"({fmt_ratio(r['delivered_per_s'], w['delivered_per_s'])})"]
            for k in ("p50_ms", "p90_ms", "p99_ms"):
                cells.append(f"{ms(L.get(k))} / {W.get(k)} ({fmt_ratio(L.get(k), W.get(k))})")
            out.append(f"| {r['label']} | {offered} | " + " | ".join(cells) + " |")
    verdicts = []
    pg = [r for r in results if r["label"].startswith("pg") and r["offered_per_s"] is not None]
    head = f"target (pg, {target_rate:g} msgs/s, p99 <= {target_p99:g} ms, nothing lost): "
    for r in pg:
        if r["offered_per_s"] == target_rate:
            ok = (r["latency"].get("p99_ms") or 1e9) <= target_p99 and r["lost"] == 0 and r["unacked"] == 0 \
                and r["delivered_per_s"] >= 0.98 * target_rate
            verdicts.append(f"{head}{'MET' if ok else 'MISSED'} (p99 {ms(r['latency'].get('p99_ms'))} ms, "
                            f"lost {r['lost']}, unacked {r['unacked']}, delivered {r['delivered_per_s']}/s)")
    if pg and not verdicts:
        verdicts.append(f"{head}MISSED (no pg result at {target_rate:g} msgs/s: the rates above "
                        f"{max(r['offered_per_s'] for r in pg):g} msgs/s were skipped after the server fell behind, "
                        "or it is not in --rates)")
    if verdicts:
        out.append("\n" + "\n".join(verdicts))
    return "\n".join(out)


def ranges(paths: list[str]) -> str:
    """Several runs side by side: per setup and rate, min-max over the runs."""
    rows = {}
    for path in paths:
        for line in open(path):
            r = json.loads(line)
            if r.get("suite") == "branchline":
                rows.setdefault((r.get("code", "?"), r["label"], r["offered_per_s"]), []).append(r)

    def span(vals, nd=1):
        missing = any(v is None for v in vals)
        vals = [v for v in vals if v is not None]
        if not vals:
            return "never"
        lo, hi = min(vals), max(vals)
        txt = f"{lo:,.{nd}f}" if lo == hi else f"{lo:,.{nd}f}–{hi:,.{nd}f}"
        return txt + (" (some never)" if missing else "")

    out = [f"{len(paths)} runs; min–max over the runs\n",
           "| code | setup | offered/s | runs | delivered/s | p50 ms | p99 ms | p99.9 ms | lost | dup | unacked |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (code, label, offered), rs in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or 0)):
        off = "max (closed loop)" if offered is None else f"{offered:g}"
        lat = lambda k: [r["latency"].get(k) for r in rs]  # noqa: E731
        out.append(f"| {code} | {label} | {off} | {len(rs)} | {span([r['delivered_per_s'] for r in rs])} | "
                   f"{span(lat('p50_ms'))} | {span(lat('p99_ms'))} | {span(lat('p999_ms'))} | "
                   f"{span([r['lost'] for r in rs], 0)} | {span([r['dup'] for r in rs], 0)} | "
                   f"{span([r['unacked'] for r in rs], 0)} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--setups", nargs="+", choices=["sqlite", "pg"], default=["sqlite", "pg"])
    ap.add_argument("--rates", type=float, nargs="+", default=[200, 500, 1000])
    ap.add_argument("--closed-loop", action="store_true", help="also a closed-loop (maximum throughput) phase")
    ap.add_argument("--duration", type=float, default=10, help="measured seconds per rate")
    ap.add_argument("--warmup", type=float, default=1)
    ap.add_argument("--drain", type=float, default=10)
    ap.add_argument("--recover", type=float, default=60,
                    help="after an overloaded rate, max seconds to wait for the server's backlog")
    ap.add_argument("--quiet-threshold", type=float, default=25,
                    help="before each load run wait until the machine is at most this busy (%% of 100*cores)")
    ap.add_argument("--quiet-wait", type=float, default=180, help="max seconds to wait for that")
    ap.add_argument("--customers", type=int, default=500)
    ap.add_argument("--agents", type=int, default=100, help="5 conversations each with 500 customers")
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
    ap.add_argument("--ranges", nargs="+", metavar="RUN.jsonl", help="only print min-max over earlier runs")
    a = ap.parse_args()
    if a.ranges:
        print(ranges(a.ranges))
        return

    outdir = Path(a.out)
    outdir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("run-%Y%m%d-%H%M%S")
    jsonl = outdir / f"{stamp}.jsonl"
    results, raw = [], []
    with open(jsonl, "w") as sink:
        code = a.code = git_state()
        log(f"measuring {code}")
        sink.write(json.dumps({"suite": "meta", "time": time.time(), "nproc": os.cpu_count(),
                               "loadavg": os.getloadavg(), "code": code, "args": vars(a)}) + "\n")
        for name in a.setups:
            try:
                results += (setup_sqlite if name == "sqlite" else setup_pg)(a, sink, outdir, stamp)
            except Exception as exc:
                log(f"{name}: FAILED: {exc!r}")
        if a.raw:
            raw = run_raw(a, sink)
    if a.raw_results:
        raw = load_raw(a.raw_results)
    text = f"code: {code['head']}{' + uncommitted src changes' if code['src_dirty'] else ''}\n\n" + \
        summary(results, raw, a.target_p99, a.target_rate)
    (outdir / f"{stamp}.md").write_text(text + "\n")
    print(text)
    print(f"\nresults: {jsonl}")


if __name__ == "__main__":
    main()
