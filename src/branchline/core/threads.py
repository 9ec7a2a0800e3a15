"""Worker threads for blocking work (the ORM), each keeping its database connection.

The socket gateway and the HTTP handler each run their Django work on a fixed set of
threads of their own, so a burst of one cannot take the other's threads."""
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connections


def worker_threads(size: int, name: str) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"branchline-{name}")


def keep_connections() -> None:
    """Let this thread keep its pooled connection past the next close_old_connections():
    handing it back to the pool after every call (CONN_MAX_AGE 0) and taking it again cost
    ~9% of a send's CPU (bench/README.md). It is still dropped when it broke (a database
    restart) or was left outside autocommit, which is what close_old_connections checks
    besides age."""
    for connection in connections.all(initialized_only=True):
        connection.close_at = None


def fresh_connections() -> None:
    """Before a thread's next piece of work: drop a connection that broke since the last."""
    keep_connections()
    close_old_connections()
