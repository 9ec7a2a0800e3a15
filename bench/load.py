"""Load generator: N customers and M agents over real WebSockets against running Branchline
server(s); measures customer send -> agent receive latency (persistence included).
bench/run.py starts the servers and calls this; see bench/README.md.

    python bench/load.py --customer-url http://127.0.0.1:8001 --agent-url http://127.0.0.1:8002 \
        --customers 500 --agents 100 --rate 200 500 1000 --duration 10 --agent-sessions sessions.json

Setup (not measured): the agents' sockets open; every customer opens a socket and starts a
conversation with a first message; each conversation is accepted over HTTP by an agent,
round-robin, so each agent socket then receives its conversations' messages.

Measure, for each --rate R (aggregate msgs/s, open loop, paced): --warmup s, then --duration s
measured, then up to --drain s to collect stragglers (--closed-loop adds a phase at the maximum
rate). Each message body embeds time.monotonic_ns() at send ("t=<ns> ..."); the agent socket
receiving the message.created computes now - t (CLOCK_MONOTONIC is system-wide, so this is
valid across processes).

  latency   percentiles over messages *sent* in the measured window (late arrivals included);
            a percentile that falls on a message never received prints as "never"
  delivered/s  first receipts by an agent whose receive time falls in the window / duration
  lost      acknowledged (message.ack: committed) but never received by the agent
  unacked   sent but never acknowledged;  dup: receipts beyond the first;  misrouted: reached another agent
  saturated the server had not caught up --drain s after the last send (overload). Then the
            bench waits up to --recover s more for its backlog (late arrivals count, with
            their real latency) and skips the higher rates if it never catches up.
  errors    error frames the customers got (e.g. rate_limited), by code
  CPU%      this process (load generator), --watch / --watch-match processes, the rest of the
            machine ("other") over the measured window; 100% = one core

Prints a table and one `RESULT {json}` line per phase.
"""
import argparse
import asyncio
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from wsclient import connect  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def now_ns() -> int:
    return time.monotonic_ns()


def pct(sorted_vals, p):
    """Nearest rank, as ../shared/bench-limits/common.py does."""
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * (len(sorted_vals) - 1)))))
    return sorted_vals[k]


INF = float("inf")


def lat_summary(samples_ns) -> dict:
    """Percentiles in ms; samples of INF (never arrived) make a percentile None ("never")."""
    s = sorted(samples_ns)
    if not s:
        return {"n": 0}
    f = lambda v: None if v == INF else round(v / 1e6, 3)  # noqa: E731
    finite = [v for v in s if v != INF]
    return {"n": len(s), "missing": len(s) - len(finite), "p50_ms": f(pct(s, 50)), "p90_ms": f(pct(s, 90)),
            "p99_ms": f(pct(s, 99)), "p999_ms": f(pct(s, 99.9)), "max_ms": f(s[-1]),
            "mean_ms": f(sum(finite) / len(finite)) if finite else None}


def proc_cpu_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime, all threads
    except (OSError, IndexError, ValueError):
        return None


def pids_matching(substring: str) -> list[int]:
    """Processes whose command line holds `substring` (not this one: ours holds it in --watch-match)."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as fh:
                    if substring.encode() in fh.read():
                        pids.append(int(name))
            except OSError:
                pass
    return pids


def group_ticks(pids) -> dict[int, int]:
    out = {}
    for pid in pids:
        t = proc_cpu_ticks(pid)
        if t is not None:
            out[pid] = t
    return out


def machine_busy() -> tuple[int, int]:
    with open("/proc/stat") as fh:
        vals = [int(v) for v in fh.readline().split()[1:]]
    idle = vals[3] + vals[4]
    return sum(vals) - idle, sum(vals)


class Bench:
    def __init__(self, args):
        self.args = args
        self.msgs: dict[str, list] = {}  # client_message_id -> [phase, t_send, t_ack, receipts, lat, t_recv]
        self.phase = -1
        self.errors = Counter()
        self.misrouted = 0
        self.closed_sockets = 0
        self.pending_first: dict[str, asyncio.Future] = {}
        self.expected_agent: dict[int, int] = {}  # conversation id -> agent index
        self.joined: Counter = Counter()  # agent index -> agent_joined seen for its conversations
        self.joined_event = asyncio.Event()
        self.joined_needed = 0
        self.closed_loop_send = None  # set during a closed-loop phase
        self.customer_of: dict = {}  # conversation id -> customer client

    # --- frames from the server ----------------------------------------------------------
    def on_customer(self, client, payload: bytes) -> None:
        head = payload[:40]
        if b"message.ack" in head:
            frame = json.loads(payload)
            cmid = frame.get("client_message_id")
            rec = self.msgs.get(cmid)
            if rec is not None and not rec[2]:
                rec[2] = now_ns()
            fut = self.pending_first.pop(cmid, None)
            if fut is not None and not fut.done():
                fut.set_result(frame)
        elif b'"error"' in head:
            frame = json.loads(payload)
            code = frame.get("error", {}).get("code", "?")
            self.errors[code] += 1
            if not client.ready.done():
                client.ready.set_exception(RuntimeError(f"customer hello refused: {frame}"))
        elif b'"ready"' in head:
            if not client.ready.done():
                client.ready.set_result(json.loads(payload))
        # message.created echoes, conversation.updated, receipts: not needed, not parsed

    def on_agent(self, client, payload: bytes) -> None:
        head = payload[:40]
        if b"message.created" in head:
            t = now_ns()
            message = json.loads(payload)["message"]
            sender = message["sender"]
            if sender == "customer":
                rec = self.msgs.get(message["client_message_id"])
                if rec is None:
                    return  # a setup message (first messages go to the whole queue)
                rec[3] += 1
                if rec[3] == 1:
                    text = message["text"]
                    rec[4] = t - int(text[2:text.index(" ")])
                    rec[5] = t
                    if self.expected_agent.get(message["conversation_id"]) != client.index:
                        self.misrouted += 1
                    if self.closed_loop_send is not None and rec[0] == self.phase:
                        self.closed_loop_send(self.customer_of[message["conversation_id"]])
            elif message["system_code"] == "agent_joined":
                if self.expected_agent.get(message["conversation_id"]) == client.index:
                    self.joined[client.index] += 1
                    if sum(self.joined.values()) >= self.joined_needed:
                        self.joined_event.set()
        elif b'"error"' in head:
            frame = json.loads(payload)
            self.errors["agent:" + frame.get("error", {}).get("code", "?")] += 1
            if not client.ready.done():
                client.ready.set_exception(RuntimeError(f"agent hello refused: {frame}"))
        elif b'"ready"' in head:
            if not client.ready.done():
                client.ready.set_result(json.loads(payload))


def rate_name(rate) -> str:
    return "max" if rate is None else f"r{rate:g}"


def start_profilers(a, rate) -> list:
    """py-spy (GIL-holder samples) on the watched server processes for this rate's window."""
    procs = []
    for name, pid in a.profile_parsed.items():
        out = Path(a.profile_dir) / f"{a.profile_tag}{a.label}-{name}-{rate_name(rate)}.speedscope.json"
        procs.append(subprocess.Popen(
            [a.py_spy, "record", "-p", str(pid), "-o", str(out), "-f", "speedscope", "-r", "250", "--gil",
             "--nonblocking", "-d", str(int(a.duration) + 5)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


async def gather_limited(n: int, coros):
    sem = asyncio.Semaphore(n)

    async def one(c):
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


def ws_url(http_url: str) -> str:
    return "ws" + http_url[4:].rstrip("/") + "/ws"


async def open_socket(bench: Bench, url: str, on_text, headers=None, index=None):
    client = await connect(url, on_text, headers)
    client.ready = asyncio.get_running_loop().create_future()
    client.index = index
    return client


async def setup(bench: Bench, a):
    t0 = time.monotonic()
    limits = httpx.Limits(max_connections=16)
    cust_http = httpx.AsyncClient(base_url=a.customer_url, timeout=60, limits=limits)
    agent_http = httpx.AsyncClient(base_url=a.agent_url, timeout=60, limits=limits)

    # --- agents: sessions, then sockets -----------------------------------------------------
    if a.agent_sessions:
        sessions = json.loads(Path(a.agent_sessions).read_text())[: a.agents]
        if len(sessions) < a.agents:
            sys.exit(f"{a.agent_sessions} holds {len(sessions)} sessions; --agents {a.agents}")
    else:
        users = a.agent_users.split(",")[: a.agents]

        async def login(username):
            # A client of its own: signing in rotates the CSRF token in the cookie jar.
            async with httpx.AsyncClient(base_url=agent_http.base_url, timeout=agent_http.timeout) as http:
                token = (await http.get("/api/staff/csrf")).json()["csrf_token"]
                r = await http.post("/api/staff/session", json={"username": username, "password": a.agent_password},
                                    headers={"X-CSRFToken": token})
            r.raise_for_status()
            return {"username": username, "sessionid": r.cookies.get("sessionid"),
                    "csrftoken": r.cookies.get("csrftoken")}

        sessions = await gather_limited(4, [login(u) for u in users])
    agent_origin = a.agent_url.rstrip("/")
    agents = []
    for i, s in enumerate(sessions):
        cookie = f"sessionid={s['sessionid']}; csrftoken={s['csrftoken']}"
        client = await open_socket(bench, ws_url(a.agent_url), bench.on_agent,
                                   {"Cookie": cookie, "Origin": agent_origin}, index=i)
        client.cookie, client.csrftoken = cookie, s["csrftoken"]
        client.send_text(b'{"type":"hello"}')
        await asyncio.wait_for(client.ready, 30)
        agents.append(client)
    t_agents = time.monotonic()

    # --- customers: sessions, sockets, first message ----------------------------------------
    topics = (await cust_http.get("/api/topics")).json()
    topic_id = topics[0]["id"]

    async def anon():
        r = await cust_http.post("/api/customer/sessions/anonymous")
        if r.status_code != 201:
            raise RuntimeError(f"anonymous session: {r.status_code} {r.text[:200]}")
        return r.json()["token"]

    tokens = await gather_limited(8, [anon() for _ in range(a.customers)])
    t_tokens = time.monotonic()
    loop = asyncio.get_running_loop()

    async def customer(i, token):
        client = await open_socket(bench, ws_url(a.customer_url), bench.on_customer, index=i)
        client.send_text(json.dumps({"type": "hello", "token": token}).encode())
        await asyncio.wait_for(client.ready, 30)
        cmid = f"s-{i}"
        fut = loop.create_future()
        bench.pending_first[cmid] = fut
        client.send_text(json.dumps({"type": "message.send", "body": "hello, bench here", "client_message_id": cmid,
                                     "topic_id": topic_id, "ref": cmid}).encode())
        ack = await asyncio.wait_for(fut, 30)
        client.conversation_id = ack["message"]["conversation_id"]
        client.sent = 0
        return client

    customers = await gather_limited(a.connect_concurrency, [customer(i, t) for i, t in enumerate(tokens)])
    t_customers = time.monotonic()

    # --- agents accept, round-robin -------------------------------------------------------------
    bench.joined_needed = len(customers)
    for i, c in enumerate(customers):
        bench.expected_agent[c.conversation_id] = i % len(agents)
        bench.customer_of[c.conversation_id] = c

    async def accept(c):
        agent = agents[bench.expected_agent[c.conversation_id]]
        r = await agent_http.post(f"/api/staff/conversations/{c.conversation_id}/accept",
                                  headers={"Cookie": agent.cookie, "X-CSRFToken": agent.csrftoken})
        if r.status_code != 200:
            raise RuntimeError(f"accept {c.conversation_id}: {r.status_code} {r.text[:200]}")

    await gather_limited(4, [accept(c) for c in customers])
    try:
        await asyncio.wait_for(bench.joined_event.wait(), 30)
    except asyncio.TimeoutError:
        print(f"warning: only {sum(bench.joined.values())}/{bench.joined_needed} agent_joined events reached "
              "the accepting agents' sockets", file=sys.stderr)
    t_accept = time.monotonic()
    await cust_http.aclose()
    await agent_http.aclose()
    timing = {"agents_s": round(t_agents - t0, 2), "customer_sessions_s": round(t_tokens - t_agents, 2),
              "customer_sockets_and_first_message_s": round(t_customers - t_tokens, 2),
              "accept_s": round(t_accept - t_customers, 2)}
    return customers, agents, timing


PAD = "x" * 120


async def measure(bench: Bench, customers, rate: float | None, a, watch: dict[str, int]) -> dict:
    """One phase: paced at `rate` msgs/s, or closed loop if rate is None (every customer sends
    its next message as soon as its agent received the previous one: the maximum rate)."""
    loop = asyncio.get_running_loop()
    bench.phase += 1
    phase = bench.phase
    prefix = f"p{phase}-"
    order = customers[:]
    random.shuffle(order)  # round-robin over a shuffled list: every customer sends at rate/N
    n_order = len(order)
    msgs = bench.msgs
    errors_before = Counter(bench.errors)
    misrouted_before = bench.misrouted
    lateness = []  # pacer: how late each send was against its schedule (generator health)
    seq = [0]

    def send(c) -> None:
        seq[0] += 1
        c.sent += 1
        cmid = f"{prefix}{c.index}-{c.sent}"
        t = now_ns()
        frame = ('{"type":"message.send","body":"t=%d %s","client_message_id":"%s","ref":%d}'
                 % (t, PAD, cmid, seq[0])).encode()
        msgs[cmid] = [phase, t, 0, 0, 0, 0]
        c.send_text(frame)

    clock = time.monotonic  # (uvloop's loop.time() only has millisecond resolution)
    start = clock()
    w_start = start + a.warmup
    w_end = w_start + a.duration
    w_start_ns = w_end_ns = None
    snap = {}
    k = 0
    next_t = start
    if rate is None:
        bench.closed_loop_send = send
        for c in order:
            send(c)
    while True:
        now = clock()
        if w_start_ns is None and now >= w_start:
            w_start_ns = now_ns()
            profilers = start_profilers(a, rate)
            snap["ru"] = resource.getrusage(resource.RUSAGE_SELF)
            snap["watch"] = {name: proc_cpu_ticks(pid) for name, pid in watch.items()}
            snap["match"] = {name: group_ticks(pids_matching(sub)) for name, sub in a.watch_match_parsed.items()}
            snap["busy"] = machine_busy()
            snap["wall"] = time.monotonic()
        if now >= w_end:
            break
        if rate is None:
            await asyncio.sleep(min(0.05, max(0.0, (w_start if w_start_ns is None else w_end) - now)))
            continue
        while next_t <= now:
            send(order[k % n_order])
            k += 1
            lateness.append(now - next_t)
            next_t += 1.0 / rate
        await asyncio.sleep(max(0.0, next_t - clock()))
    bench.closed_loop_send = None
    w_end_ns = now_ns()
    wall = time.monotonic() - snap["wall"]
    for p in profilers:
        p.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
    ru0, ru1 = snap["ru"], resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime) / wall * 100
    watch_cpu = {}
    for name, pid in watch.items():
        t1, t0 = proc_cpu_ticks(pid), snap["watch"].get(name)
        if t1 is not None and t0 is not None:
            watch_cpu[name] = round((t1 - t0) / CLK_TCK / wall * 100, 1)
    for name, before in snap["match"].items():
        after = group_ticks(before)  # processes present at both ends
        watch_cpu[name] = round(sum(after[p] - before[p] for p in after) / CLK_TCK / wall * 100, 1)
    b1 = machine_busy()
    b0 = snap["busy"]
    machine_cpu = round((b1[0] - b0[0]) / max(1, b1[1] - b0[1]) * 100 * os.cpu_count(), 1)

    # --- drain: wait for stragglers, then (bounded) for a backlog to clear --------------------------
    phase_recs = [r for r in msgs.values() if r[0] == phase]

    def pending() -> int:
        return sum(1 for r in phase_recs if not (r[2] and r[3]))

    drain_deadline = loop.time() + a.drain
    while loop.time() < drain_deadline and pending():
        await asyncio.sleep(0.05)
    backlog_at_drain = pending()
    if backlog_at_drain:
        # The server is behind (overload). Wait for it so the next rate starts on an idle
        # server; completions meanwhile still count, with their real (long) latency.
        recover_deadline = loop.time() + a.recover
        while loop.time() < recover_deadline and pending():
            await asyncio.sleep(0.1)
    await asyncio.sleep(0.2)  # late duplicates
    for p in profilers:
        try:
            await asyncio.wait_for(asyncio.to_thread(p.wait), 60)
        except asyncio.TimeoutError:
            p.kill()

    in_window = [r for r in phase_recs if w_start_ns <= r[1] < w_end_ns]
    # never received -> infinite latency, so a percentile that falls on them reads "never"
    lats = [r[4] if r[3] else INF for r in in_window]
    acks = [r[2] - r[1] if r[2] else INF for r in in_window]
    delivered_in_window = sum(1 for r in phase_recs if r[3] and w_start_ns <= r[5] < w_end_ns)
    lost = sum(1 for r in phase_recs if r[2] and not r[3])
    unacked = sum(1 for r in phase_recs if not r[2])
    undelivered = sum(1 for r in phase_recs if not r[3])
    dup = sum(r[3] - 1 for r in phase_recs if r[3] > 1)
    errors = bench.errors - errors_before
    late = sorted(lateness)
    # the slowest deliveries, with when they were sent (s into the window): periodic stalls show up here
    worst = sorted((r for r in in_window if r[3]), key=lambda r: r[4], reverse=True)[:10]
    worst = [[round((r[1] - w_start_ns) / 1e9, 3), round(r[4] / 1e6, 1)] for r in worst]
    result = {
        "suite": "branchline", "label": a.label, "customers": len(customers), "agents": a.agents,
        "offered_per_s": rate, "mode": "paced" if rate is not None else "closed-loop", "duration_s": a.duration,
        "sent_total": len(phase_recs), "sent_in_window": len(in_window),
        "sent_per_s": round(len(in_window) / wall, 1),
        "delivered_per_s": round(delivered_in_window / wall, 1),
        "latency": lat_summary(lats), "ack_latency": lat_summary(acks),
        "lost": lost, "unacked": unacked, "undelivered": undelivered, "dup": dup,
        "misrouted": bench.misrouted - misrouted_before,
        "backlog_at_drain": backlog_at_drain, "saturated": backlog_at_drain > 0, "recovered": pending() == 0,
        "errors": dict(errors), "client_cpu_pct": round(client_cpu, 1), "server_cpu_pct": watch_cpu,
        "machine_cpu_pct": machine_cpu,
        "other_cpu_pct": round(machine_cpu - client_cpu - sum(watch_cpu.values()), 1),
        "pacer_late_p99_ms": round((pct(late, 99) or 0) * 1e3, 2),
        "pacer_late_max_ms": round((late[-1] if late else 0) * 1e3, 2),
        "slowest_sent_at_s_latency_ms": worst, "window_start_monotonic_s": round(w_start_ns / 1e9, 3),
    }
    # keep memory flat across phases
    for cmid in [m for m, r in msgs.items() if r[0] == phase]:
        del msgs[cmid]
    return result


def ms(v) -> str:
    return "never" if v is None else f"{v:g}"


def table(results: list[dict]) -> str:
    """Markdown table of RESULT rows (also used by run.py)."""
    rows = ["| setup | offered/s | sent/s | delivered/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms "
            "| ack p50/p99 ms | lost | dup | unacked | saturated | errors | load-gen CPU% | server CPU% | other CPU% "
            "| machine CPU% (of 200) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---|---:|---|---:|---:|"]
    for r in results:
        L, A = r["latency"], r["ack_latency"]
        errs = ",".join(f"{k}={v}" for k, v in r["errors"].items()) or "0"
        srv = " ".join(f"{k}={v}" for k, v in r["server_cpu_pct"].items()) or "-"
        sat = "no" if not r.get("saturated") else ("yes, recovered" if r.get("recovered") else "yes, NOT recovered")
        offered = "max (closed loop)" if r["offered_per_s"] is None else f"{r['offered_per_s']:g}"
        rows.append(f"| {r['label']} | {offered} | {r['sent_per_s']} | {r['delivered_per_s']} | "
                    f"{ms(L.get('p50_ms'))} | {ms(L.get('p90_ms'))} | {ms(L.get('p99_ms'))} | {ms(L.get('p999_ms'))} | "
                    f"{ms(L.get('max_ms'))} | {ms(A.get('p50_ms'))}/{ms(A.get('p99_ms'))} | {r['lost']} | {r['dup']} | "
                    f"{r['unacked']} | {sat} | {errs} | {r['client_cpu_pct']} | {srv} | "
                    f"{r.get('other_cpu_pct', '-')} | "
                    f"{r['machine_cpu_pct']} |")
    return "\n".join(rows)


async def main_async(a):
    bench = Bench(a)
    watch = {}
    for w in a.watch:
        name, _, pid = w.partition("=")
        watch[name] = int(pid)
    customers, agents, timing = await setup(bench, a)
    print(f"setup: {len(customers)} customers, {len(agents)} agents, {timing}", file=sys.stderr, flush=True)
    await asyncio.sleep(a.settle)
    results = []
    # The closed loop (at most one message in flight per customer, so no backlog is left
    # behind) goes first: it still runs when a paced rate later overloads the server.
    phases = ([None] if a.closed_loop else []) + list(a.rate)
    for rate in phases:
        r = await measure(bench, customers, rate, a, watch)
        r["setup_timing"] = timing
        closed_by = Counter(f"{role}:{c.close_code or 'no close frame'}"
                            for role, group in (("customer", customers), ("agent", agents)) for c in group if c.closed)
        closed = sum(closed_by.values())
        r["sockets_closed"] = closed
        r["sockets_closed_by"] = dict(closed_by)
        results.append(r)
        print("RESULT " + json.dumps(r), flush=True)
        if closed:
            print(f"warning: {closed} sockets were closed by the server so far: {dict(closed_by)}", file=sys.stderr)
        if not r["recovered"]:
            skipped = phases[phases.index(rate) + 1:]
            print(f"warning: the server did not catch up within {a.drain + a.recover:.0f}s after "
                  f"{rate_name(rate)}; skipping {[rate_name(x) for x in skipped]}", file=sys.stderr)
            break
        await asyncio.sleep(a.pause)
    print(table(results), file=sys.stderr, flush=True)
    for c in customers + agents:
        c.close()
    await asyncio.sleep(0.2)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customer-url", required=True, help="http://127.0.0.1:PORT of the customers' server")
    ap.add_argument("--agent-url", help="http://127.0.0.1:PORT of the agents' server (default: --customer-url)")
    ap.add_argument("--customers", type=int, default=500)
    ap.add_argument("--agents", type=int, default=20)
    ap.add_argument("--rate", type=float, nargs="+", default=[200, 500, 1000], help="aggregate msgs/s, one phase each")
    ap.add_argument("--closed-loop", action="store_true",
                    help="before the rates, one closed-loop phase: each customer sends its next message when its "
                         "agent received the previous one (the maximum throughput; latency is then queueing)")
    ap.add_argument("--duration", type=float, default=10, help="measured seconds per rate")
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--drain", type=float, default=10.0, help="max seconds to wait for stragglers after sending")
    ap.add_argument("--recover", type=float, default=60.0,
                    help="after an overloaded rate, max further seconds to wait for the server's backlog")
    ap.add_argument("--pause", type=float, default=1.0, help="seconds between rates")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds between setup and the first rate")
    ap.add_argument("--agent-sessions", help="JSON list of {username, sessionid, csrftoken} (see run.py)")
    ap.add_argument("--agent-users", default="anna,ben,olga", help="comma list, logged in with --agent-password")
    ap.add_argument("--agent-password", default="branchline-demo")
    ap.add_argument("--connect-concurrency", type=int, default=20)
    ap.add_argument("--label", default="branchline")
    ap.add_argument("--cpu", type=int, default=-1, help="pin this process to one CPU")
    ap.add_argument("--watch", nargs="*", default=[], help="name=pid: report that process's CPU%% per window")
    ap.add_argument("--watch-match", nargs="*", default=[],
                    help="name=substring: report the summed CPU%% of processes whose command line holds substring")
    ap.add_argument("--profile", nargs="*", default=[],
                    help="name=pid: py-spy record that process (GIL holder) during each measured window")
    ap.add_argument("--py-spy", default="py-spy")
    ap.add_argument("--profile-dir", default=".")
    ap.add_argument("--profile-tag", default="", help="file name prefix for the profiles")
    ap.add_argument("--no-uvloop", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    a.agent_url = a.agent_url or a.customer_url
    a.watch_match_parsed = dict(w.split("=", 1) for w in a.watch_match)
    a.profile_parsed = {k: int(v) for k, v in (w.split("=", 1) for w in a.profile)}
    random.seed(a.seed)
    if a.cpu >= 0:
        os.sched_setaffinity(0, {a.cpu})
    loop_factory = None
    if not a.no_uvloop:
        try:
            import uvloop

            loop_factory = uvloop.new_event_loop
        except ImportError:
            pass
    asyncio.run(main_async(a), loop_factory=loop_factory)


if __name__ == "__main__":
    main()
