"""One open socket: its principal, its per-conversation cursors and its outgoing queue.

Numbered events (messages) reach the socket exactly once and in order: a duplicate is
dropped, and a gap (a notification lost while Redis was away, or a socket that resumed
from an old number) is filled from the database before anything else is sent."""
import asyncio
import json
import logging
import time
from collections import deque

from django.conf import settings

from branchline.conversations.payloads import message_for
from branchline.conversations.selectors import messages_missed
from branchline.core.errors import Unauthorized
from branchline.core.threads import fresh_connections, worker_threads

log = logging.getLogger(__name__)


# ORM work runs off the event loop in these threads, each holding its own database
# connection. A plain executor: asgiref's sync_to_async costs several times more per call
# (context copying) and the gateway makes one such call per message.
_db_threads = worker_threads(settings.GATEWAY_DB_THREADS, "db")


def _call(fn, args, kwargs):
    fresh_connections()
    return fn(*args, **kwargs)


async def db(fn, *args, **kwargs):
    """Run ORM work off the event loop and wait for its result."""
    return await asyncio.get_running_loop().run_in_executor(_db_threads, _call, fn, args, kwargs)


CLOSE_UNAUTHORIZED = 4401


PAGE_CONVERSATIONS = 10  # conversations read from the database at a time when filling gaps


class _Budget:
    """Items a socket may be sent from the database: a token bucket of `burst` items,
    refilled at `rate` per second. A read never takes more than there is."""

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = float(burst), time.monotonic()

    def available(self) -> int:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return int(self.tokens)

    def spend(self, items: int) -> None:
        self.tokens -= items


class _Close:
    __slots__ = ("code",)

    def __init__(self, code: int):
        self.code = code


class Connection:
    # Slots, and futures rather than asyncio.Events (each holds a deque): an idle socket
    # costs little besides what the ASGI server keeps for it (bench/README.md).
    __slots__ = ("_send", "principal", "cursors", "queue_max", "out", "wakeup", "closed", "syncing", "held",
                 "to_fetch", "syncer", "budget", "drained", "session", "session_key", "writer",
                 "active_at", "audiences")

    def __init__(self, send, principal, *, queue_max: int):
        self._send = send
        self.principal = principal
        self.cursors: dict[int, int] = {}
        self.queue_max = queue_max
        self.out: deque[str] = deque()
        self.wakeup: asyncio.Future | None = None  # what the idle writer waits on
        self.closed = False
        self.syncing = False
        self.held: list[tuple[int | None, int | None, str]] = []
        self.to_fetch: set[int] = set()  # conversations to read from the database next
        self.syncer: asyncio.Task | None = None
        self.budget: _Budget | None = None  # items re-sent from the database (at the first read)
        self.drained: asyncio.Future | None = None  # a sync waiting for the queue to empty
        # The sign-in behind the socket: the digest a `session.ended` event names, and for
        # staff the session key the periodic re-check reads (set by the gateway at hello).
        self.session: str | None = None
        self.session_key: str | None = None
        self.active_at = float("-inf")  # when this socket last told the staff session of activity
        self.audiences: tuple[str, ...] = ()  # the registry's keys for it (set by the gateway)
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
        _resolve(self.wakeup)

    def send_event(self, type_: str, **data) -> None:
        self.enqueue(json.dumps({"type": type_, **data}, default=str))

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                while self.out:
                    item = self.out.popleft()
                    if isinstance(item, _Close):
                        await self._send({"type": "websocket.close", "code": item.code})
                        return
                    await self._send({"type": "websocket.send", "text": item})
                _resolve(self.drained)
                self.wakeup = loop.create_future()
                await self.wakeup
                self.wakeup = None
        except asyncio.CancelledError:
            pass
        except Exception:  # the peer went away mid-send
            self.closed = True
            _resolve(self.drained)

    def signed_out(self) -> None:
        """The sign-in behind this socket ended: tell the client, then close 4401."""
        self.send_event("error", error=Unauthorized().as_dict())
        self.close(code=CLOSE_UNAUTHORIZED)

    async def finish(self, timeout: float) -> None:
        """Close (if not yet) and wait, up to `timeout` seconds, until what was queued and
        the close frame have been handed to the server; then give up on the peer."""
        self.close()
        try:
            await asyncio.wait_for(asyncio.shield(self.writer), timeout)
        except asyncio.TimeoutError:
            self.writer.cancel()

    def close(self, code: int = 1000, *, flush: bool = True) -> None:
        """Close after what is already queued (or at once, dropping it, if not flush)."""
        if self.closed:
            return
        self.closed = True  # nothing more is queued from now on
        if not flush:
            self.out.clear()
        self.out.append(_Close(code))
        _resolve(self.wakeup)
        _resolve(self.drained)  # a sync waiting for the queue to drain stops

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
            self.start_sync((conversation_id,))

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

    def resume(self, conversation_id: int, after_seq: int) -> None:
        """Follow a conversation from after `after_seq` and read what follows it from the
        database. A cursor never moves back: everything up to it has already been queued
        on this socket, so a resume at or below it re-sends nothing (and costs no budget)."""
        cursor = self.cursors.get(conversation_id)
        if cursor is None or after_seq > cursor:
            self.cursors[conversation_id] = after_seq
        self.start_sync((conversation_id,))

    def start_sync(self, conversation_ids=None) -> None:
        """Read the items after the cursors of these conversations (every followed one by
        default) from the database, holding live events until they are placed."""
        if self.closed:
            return
        self.to_fetch.update(self.cursors if conversation_ids is None else conversation_ids)
        if self.syncing:
            return  # the running sync reads them next
        if not self.to_fetch and not self.held:
            return
        self.syncing = True
        self.syncer = asyncio.create_task(self._sync())

    async def _sync(self) -> None:
        try:
            while not self.closed:
                empty, marker = set(), 0
                if self.to_fetch:
                    empty, marker = await self._next_page()
                self._release_held(empty, marker)
                if not self.to_fetch:
                    return  # nothing is held any more either: _release_held fetches for what is
        except Exception:
            log.exception("resync failed; closing the socket so its client resumes")
            self.close(code=1011)
        finally:
            self.syncing, self.syncer = False, None

    async def _next_page(self) -> tuple[set[int], int]:
        """Wait until the socket has sent what is queued and the budget allows a page,
        then read and queue one page. Returns the conversations read that had nothing
        after their cursor, and how many held frames were held before the read."""
        limits = settings.BRANCHLINE
        if self.budget is None:
            self.budget = _Budget(limits["RESUME_ITEMS_PER_SECOND"], limits["RESUME_ITEMS_BURST"])
        await self._drained()
        page = min(limits["RESUME_PAGE_ITEMS"], self.budget.burst)
        while self.budget.available() < page and not self.closed:
            await asyncio.sleep((page - self.budget.tokens) / self.budget.rate)
        if self.closed:
            return set(), 0
        chosen = sorted(self.to_fetch)[:PAGE_CONVERSATIONS]
        self.to_fetch.difference_update(chosen)
        per_conversation = max(1, page // len(chosen))
        cursors = {cid: self.cursors[cid] for cid in chosen if cid in self.cursors}
        marker = len(self.held)
        fetched = await db(_missed_frames, self.principal, cursors, per_conversation)
        self.budget.spend(len(fetched))
        counts: dict[int, int] = {}
        for conversation_id, seq, frame in fetched:
            counts[conversation_id] = counts.get(conversation_id, 0) + 1
            self._place(conversation_id, seq, frame)
        self.to_fetch.update(cid for cid in cursors if counts.get(cid, 0) >= per_conversation)  # more to read
        return {cid for cid in cursors if cid not in counts}, marker

    def _release_held(self, empty: set[int], marker: int) -> None:
        """Place the live frames held meanwhile, in order, up to the first one that still
        waits for a read (its conversation is then read next)."""
        held, self.held = self.held, []
        for index, (conversation_id, seq, frame) in enumerate(held):
            if self._place(conversation_id, seq, frame):
                continue
            if conversation_id in empty and index < marker:
                # Read after this frame was committed and published, the database has
                # nothing after the cursor for us (e.g. no longer visible): take the frame
                # as it is rather than wait forever.
                self.cursors[conversation_id] = seq
                self.enqueue(frame)
                continue
            self.to_fetch.add(conversation_id)
            self.held = held[index:] + self.held
            return

    async def _drained(self) -> None:
        """Until everything queued has been handed to the server (or the socket closed)."""
        while self.out and not self.closed:
            self.drained = asyncio.get_running_loop().create_future()
            await self.drained
            self.drained = None


def _resolve(future: asyncio.Future | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)


def _missed_frames(principal, cursors: dict[int, int], per_conversation: int) -> list[tuple[int, int, str]]:
    """(conversation id, number, frame) for the items after each cursor, built in the
    database thread so that the event loop only places them."""
    number = "seq" if principal.is_customer else "staff_seq"
    return [
        (message.conversation_id, getattr(message, number),
         json.dumps({"type": "message.created", "message": message_for(principal, message)}, default=str))
        for message in messages_missed(principal, cursors, limit_per_conversation=per_conversation)
    ]
