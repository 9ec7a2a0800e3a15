"""One open socket: its principal, its per-conversation cursors and its outgoing queue.

Numbered events (messages) reach the socket exactly once and in order: a duplicate is
dropped, and a gap (a notification lost while Redis was away, or a socket that resumed
from an old number) is filled from the database before anything else is sent."""
import asyncio
import json
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)


# ORM work runs off the event loop in these threads, each holding its own database
# connection. A plain executor: asgiref's sync_to_async costs several times more per call
# (context copying) and the gateway makes one such call per message.
_db_threads = ThreadPoolExecutor(max_workers=settings.GATEWAY_DB_THREADS, thread_name_prefix="branchline-db")


def _call(fn, args, kwargs):
    close_old_connections()  # drop a connection broken by a database restart
    return fn(*args, **kwargs)


async def db(fn, *args, **kwargs):
    """Run ORM work off the event loop and wait for its result."""
    return await asyncio.get_running_loop().run_in_executor(_db_threads, _call, fn, args, kwargs)


class _Close:
    __slots__ = ("code",)

    def __init__(self, code: int):
        self.code = code


class Connection:
    def __init__(self, send, principal, *, queue_max: int):
        self._send = send
        self.principal = principal
        self.cursors: dict[int, int] = {}
        self.queue_max = queue_max
        self.out: deque[str] = deque()
        self.wake = asyncio.Event()
        self.closed = False
        self.syncing = False
        self.held: list[tuple[int | None, int | None, str]] = []
        self.sync_requested = False
        self.writer = asyncio.create_task(self._write_loop())

    # --- sending -------------------------------------------------------------------
    def enqueue(self, text: str) -> None:
        if self.closed:
            return
        if len(self.out) >= self.queue_max:
            # A socket that cannot keep up is closed; its client resumes by number.
            log.warning("closing a slow socket (%s queued frames)", len(self.out))
            self.close(code=1013, flush=False)
            return
        self.out.append(text)
        self.wake.set()

    def send_event(self, type_: str, **data) -> None:
        self.enqueue(json.dumps({"type": type_, **data}, default=str))

    async def _write_loop(self) -> None:
        try:
            while True:
                await self.wake.wait()
                self.wake.clear()
                while self.out:
                    item = self.out.popleft()
                    if isinstance(item, _Close):
                        await self._send({"type": "websocket.close", "code": item.code})
                        return
                    await self._send({"type": "websocket.send", "text": item})
        except asyncio.CancelledError:
            pass
        except Exception:  # the peer went away mid-send
            self.closed = True

    def close(self, code: int = 1000, *, flush: bool = True) -> None:
        """Close after what is already queued (or at once, dropping it, if not flush)."""
        if self.closed:
            return
        self.closed = True  # nothing more is queued from now on
        if not flush:
            self.out.clear()
        self.out.append(_Close(code))
        self.wake.set()

    # --- numbered delivery -----------------------------------------------------------
    def offer(self, conversation_id: int | None, seq: int | None, frame: str) -> None:
        """Called by the registry for every event addressed to this socket."""
        if self.syncing:
            if len(self.held) >= self.queue_max:
                self.close(code=1013, flush=False)  # its client resumes by number
                return
            self.held.append((conversation_id, seq, frame))
            return
        if not self._place(conversation_id, seq, frame):
            self.held.append((conversation_id, seq, frame))
            self.start_sync()

    def _place(self, conversation_id, seq, frame) -> bool:
        """Send or drop a frame in order; False if it would leave a gap."""
        if seq is None:
            self.enqueue(frame)
            return True
        cursor = self.cursors.get(conversation_id)
        if cursor is None and self.principal.is_customer:
            # Customers follow each of their conversations from its first message, so a
            # seq 2 that overtakes seq 1 (published by another process) is a gap to fill,
            # not a starting point. Staff start where they join (or where they resume).
            cursor = self.cursors[conversation_id] = 0
        if cursor is not None and seq <= cursor:
            return True  # already delivered
        if cursor is not None and seq > cursor + 1:
            return False
        self.cursors[conversation_id] = seq
        self.enqueue(frame)
        return True

    def start_sync(self) -> None:
        if self.closed:
            return
        if self.syncing:
            self.sync_requested = True  # e.g. a resume arrived mid-sync: read again after
            return
        self.syncing = True
        asyncio.create_task(self._sync())

    async def _sync(self) -> None:
        from branchline.conversations.payloads import message_for
        from branchline.conversations.selectors import messages_missed

        try:
            for _attempt in range(20):
                self.sync_requested = False
                fetched = await db(messages_missed, self.principal, dict(self.cursors))
                number = "seq" if self.principal.is_customer else "staff_seq"
                for message in fetched:
                    frame = json.dumps({"type": "message.created",
                                        "message": message_for(self.principal, message)}, default=str)
                    self._place(message.conversation_id, getattr(message, number), frame)
                fetched_for = {m.conversation_id for m in fetched}
                held, self.held = self.held, []
                for index, (conversation_id, seq, frame) in enumerate(held):
                    if self._place(conversation_id, seq, frame):
                        continue
                    if conversation_id not in fetched_for:
                        # The database has nothing newer for us here (e.g. no longer
                        # visible): take the event as it is rather than wait forever.
                        self.cursors[conversation_id] = seq
                        self.enqueue(frame)
                        continue
                    self.held = held[index:] + self.held
                    break
                if not self.held and not self.sync_requested:
                    return
        except Exception:
            log.exception("resync failed; closing the socket so its client resumes")
            self.close(code=1011)
        finally:
            self.syncing = False
            if self.held and not self.closed:
                held, self.held = self.held, []
                for conversation_id, seq, frame in held:
                    self.offer(conversation_id, seq, frame)
