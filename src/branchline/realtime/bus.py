"""The notification bus between processes.

The database is the source of truth; the bus only tells processes that something was
committed. Embedded deployments use the in-process bus; with REDIS_URL every process
holds one Redis subscription and publishes each event once: the envelopes that gathered
while the last publish was under way travel together, in one Redis message of
b"<origin>|<envelope>\n<envelope>..." (an envelope is compact JSON: it never holds a raw
newline), so a busy process pays one PUBLISH per batch, not one per event. A process that loses Redis
keeps its outgoing envelopes and retries them, and once it is subscribed again it asks
the gateway to resync its sockets from the database (`on_reconnect`)."""
import asyncio
import logging
import threading
import uuid
from collections import deque
from typing import Awaitable, Callable

import redis
import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry as SyncRetry

log = logging.getLogger(__name__)

Deliver = Callable[[bytes], None]
Reconnect = Callable[[], Awaitable[None]]


class InProcessBus:
    def __init__(self):
        self.loop: asyncio.AbstractEventLoop | None = None
        self.deliver: Deliver | None = None

    async def start(self, deliver: Deliver, on_reconnect: Reconnect) -> None:
        self.loop, self.deliver = asyncio.get_running_loop(), deliver

    async def stop(self) -> None:
        self.loop = self.deliver = None

    def send(self, envelope: bytes) -> None:
        """Thread-safe and non-blocking: called from action threads after commit."""
        loop, deliver = self.loop, self.deliver
        if loop is None or deliver is None:
            return  # no gateway in this process: nobody to tell
        try:
            loop.call_soon_threadsafe(deliver, envelope)
        except RuntimeError:  # loop closed during shutdown
            pass


class RedisBus:
    OUTBOX_MAX = 100_000  # envelopes kept while Redis is away; beyond, gaps are filled from the DB
    MESSAGE_MAX_BYTES = 256 * 1024  # envelopes per Redis message: up to this size (one, if larger)

    def __init__(self, url: str, channel: str):
        self.url, self.channel = url, channel
        self.loop: asyncio.AbstractEventLoop | None = None
        self.outbox: deque[bytes] = deque(maxlen=self.OUTBOX_MAX)
        self.wake: asyncio.Event | None = None
        self.tasks: list[asyncio.Task] = []
        self._sync_client = None
        self._sync_lock = threading.Lock()
        self.connected = asyncio.Event()
        # Messages go out as b"<origin>|<envelopes>": this process delivers its own events to
        # its own sockets at once and skips them when Redis echoes them back.
        self.origin = uuid.uuid4().hex.encode()
        self.deliver: Deliver | None = None

    async def start(self, deliver: Deliver, on_reconnect: Reconnect) -> None:
        self.loop = asyncio.get_running_loop()
        self.deliver = deliver
        self.wake = asyncio.Event()
        self.tasks = [
            asyncio.create_task(self._subscribe(deliver, on_reconnect), name="bus-subscribe"),
            asyncio.create_task(self._publish_loop(), name="bus-publish"),
        ]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks, self.loop = [], None

    def send(self, envelope: bytes) -> None:
        loop = self.loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._deliver_and_enqueue, envelope)
            return
        # No gateway loop here (management command, task worker): publish directly.
        with self._sync_lock:
            if self._sync_client is None:
                # Bounded: a hung Redis must not hang the command or worker publishing
                # (redis-py's default is 10 retries). One retry covers a connection that
                # went stale since the last publish.
                self._sync_client = redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2,
                                                         retry=SyncRetry(NoBackoff(), 1))
            self._sync_client.publish(self.channel, self.origin + b"|" + envelope)

    def _deliver_and_enqueue(self, envelope: bytes) -> None:
        self.deliver(envelope)  # our own sockets first: no round trip through Redis
        self._enqueue(envelope)

    def _enqueue(self, envelope: bytes) -> None:
        if len(self.outbox) == self.outbox.maxlen:
            log.warning("bus outbox full: dropping the oldest envelope (receivers resync from the database)")
        self.outbox.append(envelope)
        self.wake.set()

    async def _client(self):
        # socket_timeout: a hung Redis fails a publish after 2 s instead of never, and the
        # loops below retry with their own backoff (so redis-py's 10 retries are off).
        # The subscriber's reads pass their own timeout.
        return aioredis.Redis.from_url(
            self.url, socket_connect_timeout=2, socket_timeout=2, socket_keepalive=True, health_check_interval=5,
            retry=AsyncRetry(NoBackoff(), 0),
        )

    async def _publish_loop(self) -> None:
        client = await self._client()
        backoff = 0.05
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.outbox:
                batch = list(self.outbox)
                try:
                    async with client.pipeline(transaction=False) as pipe:
                        for message in self._messages(batch):
                            pipe.publish(self.channel, message)
                        await pipe.execute()
                except Exception as exc:  # redis.exceptions.* do not all derive from OSError
                    log.warning("bus publish failed (%r); retrying", exc)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 2.0)
                    continue
                backoff = 0.05
                for _ in range(len(batch)):
                    self.outbox.popleft()

    def _messages(self, envelopes: list[bytes]):
        """The envelopes as few Redis messages of up to MESSAGE_MAX_BYTES."""
        start = size = 0
        for end, envelope in enumerate(envelopes):
            if size and size + len(envelope) > self.MESSAGE_MAX_BYTES:
                yield self.origin + b"|" + b"\n".join(envelopes[start:end])
                start, size = end, 0
            size += len(envelope) + 1
        if size:
            yield self.origin + b"|" + b"\n".join(envelopes[start:])

    async def _subscribe(self, deliver: Deliver, on_reconnect: Reconnect) -> None:
        first = True
        backoff = 0.05
        while True:
            client = await self._client()
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.connected.set()
                if not first:
                    log.info("bus subscription restored; resyncing sockets from the database")
                    asyncio.create_task(on_reconnect())
                first, backoff = False, 0.05
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
                    if message is None:
                        await pubsub.ping()  # finds a dead connection while idle
                    elif message["type"] == "message":  # not the ping's pong
                        origin, _, envelopes = message["data"].partition(b"|")
                        if origin != self.origin:  # our own were delivered when sent
                            for envelope in envelopes.split(b"\n"):
                                deliver(envelope)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected.clear()
                log.warning("bus subscription lost (%r); reconnecting", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except Exception:
                    pass


_bus = None
_bus_lock = threading.Lock()


def get_bus():
    global _bus
    if _bus is None:
        with _bus_lock:
            if _bus is None:
                _bus = RedisBus(settings.REDIS_URL, settings.BUS_CHANNEL) if settings.REDIS_URL else InProcessBus()
    return _bus


def set_bus(bus):
    """For tests: swap the bus (see tests' capture_events)."""
    global _bus
    previous, _bus = _bus, bus
    return previous
