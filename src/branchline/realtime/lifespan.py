"""Start and stop what a server process runs beside its sockets: the bus subscription
and the presence heartbeat / abandoned-conversation sweep."""
import asyncio
import logging
import time

from django.conf import settings

from .bus import get_bus
from .connection import db
from .registry import registry

log = logging.getLogger(__name__)


async def heartbeat_loop() -> None:
    from branchline.conversations.actions import (
        conversations_end_abandoned,
        conversations_release_from_away_agents,
        customers_seen,
        staff_seen,
    )

    grace = settings.BRANCHLINE["ANONYMOUS_GRACE_SECONDS"]
    interval = max(0.5, grace / 3)
    last_recheck = time.monotonic()
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
            except Exception:
                log.exception("sign-in re-check failed; retrying next beat")


async def close_signed_out() -> None:
    """Sockets outlive neither a signed-out token nor an expired staff session (sign-out
    itself closes them at once through a `session.ended` event: this is the backstop)."""
    from .gateway import signed_in_verdicts

    connections = [c for c in registry.connections if c.session]
    verdicts = await db(signed_in_verdicts, [(c.session, c.session_key) for c in connections])
    for connection, valid in zip(connections, verdicts):
        if not valid:
            connection.signed_out()


class Lifespan:
    def __init__(self):
        self.tasks: list[asyncio.Task] = []

    async def startup(self) -> None:
        await get_bus().start(registry.deliver, registry.resync_all)
        self.tasks.append(asyncio.create_task(heartbeat_loop(), name="presence-heartbeat"))

    async def shutdown(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
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
