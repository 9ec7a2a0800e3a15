"""Summarise a py-spy speedscope profile of a Branchline server (as recorded by run.py --profile,
GIL-holder samples): where the interpreter's time goes, by code path and by library.

    python bench/profile_summary.py bench/results/<run>-pg-redis-2proc-A-r100.speedscope.json [--top 40]

"by path": the innermost Branchline / entry frame on each stack (what the work was for).
"by library": the leaf frame's package (what kind of work it was).
Percentages are of all samples in the file (GIL-held time when recorded with --gil).
"""
import argparse
import collections
import json

# (label, substring of "function file") checked innermost-first along the stack
PATHS = [
    ("rate limit (Django cache -> Redis)", "_rate_limit "),
    ("message payloads (customer + staff shapes)", "message_for_"),
    ("socket delivery subscriber (notify)", "realtime/notify.py"),
    ("domain events: publish / on_commit", "events/__init__.py"),
    ("permission checks", "accounts/permissions.py"),
    ("hot path SQL (streams)", "actions/streams.py"),
    ("customer_message_send: other", "customer_message_send "),
    ("staff_message_send", "staff_message_send "),
    ("ready_payload (hello)", "ready_payload "),
    ("authenticate (hello)", "authenticate "),
    ("registry.deliver (bus -> sockets)", "Registry.deliver "),
    ("bus publish loop", "RedisBus._publish_loop "),
    ("bus subscription", "RedisBus._subscribe "),
    ("socket writer (frames out)", "Connection._write_loop "),
    ("socket frame handling (parse, dispatch)", "_serve "),
    ("heartbeat", "heartbeat_loop "),
    ("Django HTTP (setup requests)", "django/core/handlers"),
    ("thread-pool hop (sync_to_async)", "asgiref/sync.py"),
    ("uvicorn websocket protocol", "uvicorn/protocols/websockets"),
    ("uvicorn http protocol", "uvicorn/protocols/http"),
]
SUBPATHS = [  # finer split of customer_message_send by the line it was on
    "customer_message_send ",
]
LIBS = [
    ("Django ORM (query building/compiling, model instances)", "django/db/models"),
    ("Django DB backend wrappers", "django/db/backends"),
    ("Django cache", "django/core/cache"),
    ("Django other", "django/"),
    ("psycopg (driver, incl. waiting on the server)", "psycopg"),
    ("redis-py", "redis/"),
    ("uvicorn", "uvicorn/"),
    ("websockets", "websockets/"),
    ("asyncio / event loop", "asyncio/"),
    ("asgiref", "asgiref/"),
    ("json", "json/"),
    ("threading / futures", "threading.py"),
    ("threading / futures", "concurrent/futures"),
    ("branchline", "branchline/"),
]


def name(frame) -> str:
    f = frame.get("file", "")
    short = f.split("site-packages/")[-1].split("/src/")[-1].split("python3.13/")[-1]
    return f"{frame['name']} {short}:{frame.get('line')}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--top", type=int, default=30)
    a = ap.parse_args()
    d = json.load(open(a.file))
    frames = [name(f) for f in d["shared"]["frames"]]
    by_path, by_lib, incl, send_lines = (collections.Counter() for _ in range(4))
    total = 0.0
    for prof in d["profiles"]:
        for stack, w in zip(prof["samples"], prof["weights"]):
            names = [frames[i] for i in stack]
            total += w
            for n in set(names):
                incl[n] += w
            label = "other (event loop idle bookkeeping, startup, ...)"
            for lab, key in PATHS:
                if any(key in n for n in names):
                    label = lab
                    break
            by_path[label] += w
            for n in names:
                if n.startswith("customer_message_send "):
                    send_lines[n] += w
            leaf = names[-1] if names else ""
            lib = "other"
            for lab, key in LIBS:
                if key in leaf:
                    lib = lab
                    break
            by_lib[lib] += w
    print(f"{a.file}: {total:.2f} s sampled")
    for title, counter in (("by path (innermost match)", by_path), ("by library (leaf frame)", by_lib)):
        print(f"\n{title}")
        for k, v in counter.most_common():
            print(f"  {v / total * 100:5.1f}%  {k}")
    if send_lines:
        print("\ncustomer_message_send, by line (inclusive)")
        for k, v in sorted(send_lines.items(), key=lambda kv: int(kv[0].rsplit(":", 1)[1])):
            print(f"  {v / total * 100:5.1f}%  {k}")
    print(f"\ntop {a.top} inclusive frames")
    for k, v in incl.most_common(a.top):
        print(f"  {v / total * 100:5.1f}%  {k}")


if __name__ == "__main__":
    main()
