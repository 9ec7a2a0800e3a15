"""Start and stop what a server process runs beside its sockets: the bus subscription,
the presence heartbeat with its sweeps (and the audit trail's retention), and (embedded
deployments) the task worker."""
import asyncio
import logging
import threading
import time
import uuid

from django.conf import settings
from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Worker

from branchline.accounts.actions import sign_ins_purge
from branchline.accounts.allow_lists import IpNotAllowed
from branchline.audit.actions import audit_prune_all
from branchline.conversations.actions import (
    attachments_unsent_delete,
    conversations_close_inactive,
    conversations_end_abandoned,
    conversations_release_from_away_agents,
    customers_seen,
    staff_seen,
)
from branchline.core.memory import freeze_startup_objects

from . import audiences, handlers
from .bus import get_bus
from .connection import db
from .gateway import CLOSE_POLICY, outside_allow_lists, signed_in_verdicts
from .registry import registry

log = logging.getLogger(__name__)


async def heartbeat_loop() -> None:
    grace = settings.BRANCHLINE["ANONYMOUS_GRACE_SECONDS"]
    interval = max(0.5, grace / 3)
    last_recheck = last_auto_close = time.monotonic()
    # The first pruning a minute after start (a process restarted within the hour still
    # prunes), then every AUDIT_PRUNE_EVERY_SECONDS.
    last_prune = time.monotonic() - settings.BRANCHLINE["AUDIT_PRUNE_EVERY_SECONDS"] + 60
    while True:
        await asyncio.sleep(interval)
        for job in (lambda: db(customers_seen, registry.connected_customer_ids()),
                    lambda: db(staff_seen, registry.connected_staff_ids()),
                    lambda: db(conversations_end_abandoned),
                    lambda: db(conversations_release_from_away_agents)):
            try:
                await job()
            except Exception:
                log.exception("presence heartbeat job failed; retrying next beat")
        if time.monotonic() - last_recheck >= settings.BRANCHLINE["SIGN_IN_RECHECK_SECONDS"]:
            last_recheck = time.monotonic()
            try:
                await close_signed_out()
                await refresh_queue_audiences()
                await db(sign_ins_purge)
            except Exception:
                log.exception("sign-in re-check failed; retrying next beat")
        if time.monotonic() - last_auto_close >= settings.BRANCHLINE["AUTO_CLOSE_EVERY_SECONDS"]:
            last_auto_close = time.monotonic()
            # Each sweep on its own: one that fails does not stop the other.
            for sweep in (conversations_close_inactive, attachments_unsent_delete):
                try:
                    await db(sweep)
                except Exception:
                    log.exception("%s failed; retrying at its next turn", sweep.__name__)
        if time.monotonic() - last_prune >= settings.BRANCHLINE["AUDIT_PRUNE_EVERY_SECONDS"]:
            last_prune = time.monotonic()
            try:
                # Batches of 10,000, each its own transaction (appends wait on the chain's head
                # only that long), for at most 10 s a turn.
                await db(audit_prune_all, max_seconds=10)
            except Exception:
                log.exception("audit retention failed; retrying at its next turn")


async def close_signed_out() -> None:
    """Sockets outlive neither a signed-out token nor an expired staff session (sign-out
    itself closes them at once through a `session.ended` event: this is the backstop), nor
    an IP allow-list that no longer lets their address in."""
    connections = [c for c in registry.connections if c.session]
    verdicts = await db(signed_in_verdicts, [(c.session, c.session_key) for c in connections])
    for connection, valid in zip(connections, verdicts):
        if not valid:
            connection.signed_out()
    # An allow-list changed since a socket opened: it goes the way a new one would be refused.
    open_ones = [c for c in registry.connections if c.principal is not None and not c.closed]
    shut_out = await db(outside_allow_lists, [(c.principal.is_customer, c.principal.address) for c in open_ones])
    for connection, outside in zip(open_ones, shut_out):
        if outside:
            connection.send_event("error", error=IpNotAllowed().as_dict())
            connection.close(code=CLOSE_POLICY)


async def refresh_queue_audiences() -> None:
    """A member of staff enabled on a queue or granted a channel, or no longer, hears its
    waiting conversations from the next re-check on (HTTP reads check at once): their
    sockets move to the new queue audiences and get `queues.changed`, to read Pending again.
    A conversation a socket has open but may no longer see leaves its viewers audiences too."""
    staff = [c for c in registry.connections if c.principal.is_staff and not c.closed]
    if not staff:
        return
    opened = [tuple(key for key in c.audiences if audiences.is_viewers(key)) for c in staff]
    still = await db(handlers.still_visible, [c.principal for c in staff], opened)
    for connection, keys, kept in zip(staff, await db(handlers.audiences_of, [c.principal for c in staff]), still):
        if registry.move(connection, (*keys, *kept)):
            connection.send_event("queues.changed")


class InProcessWorker:
    """django-tasks-db's worker on a thread of the server process, for embedded
    deployments (settings BRANCHLINE["TASK_WORKER_IN_PROCESS"]). It polls the task table
    once a second; its database work runs on its own connection."""

    def __init__(self):
        self.worker = Worker(queue_names=["*"], interval=1.0, batch=False, backend_name="default",
                             startup_delay=False, max_tasks=None, worker_id=f"in-process-{uuid.uuid4().hex[:8]}",
                             excluded_queue_names=[])
        self.thread = threading.Thread(target=self._run, name="branchline-tasks", daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run()
        except Exception:
            log.exception("in-process task worker stopped")
        finally:
            close_old_connections()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.worker.running = False
        self.thread.join(timeout=3)


class Lifespan:
    def __init__(self):
        self.tasks: list[asyncio.Task] = []
        self.worker: InProcessWorker | None = None

    async def startup(self) -> None:
        await get_bus().start(registry.deliver, registry.resync_all)
        self.tasks.append(asyncio.create_task(heartbeat_loop(), name="presence-heartbeat"))
        if settings.BRANCHLINE["TASK_WORKER_IN_PROCESS"]:
            self.worker = InProcessWorker()
            self.worker.start()
        freeze_startup_objects()

    async def shutdown(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        if self.worker is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.worker.stop)
        await get_bus().stop()


async def lifespan_app(scope, receive, send) -> None:
    lifespan = Lifespan()
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await lifespan.startup()
            except Exception as exc:
                log.exception("startup failed")
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await lifespan.shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return
