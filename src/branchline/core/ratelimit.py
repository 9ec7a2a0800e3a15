"""Token buckets, shared through Django's cache so that every process of a deployment
(Redis cache) enforces one budget per sender."""
import logging
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.signals import setting_changed
from django.dispatch import receiver

from .errors import RateLimited
from .outage import Breaker, QuietLog

log = logging.getLogger(__name__)


class TokenBucket:
    """In-memory bucket: one per socket, for frames. Not shared; no I/O."""

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> float:
        """Take one token; return 0 if granted, else seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


def _window(key: str, rate: float, burst: int) -> tuple[str, int]:
    window = max(1, int(burst / rate))
    return f"rl:{key}:{int(time.time() // window)}", window


def _refusal(window: int, message=None) -> RateLimited:
    return RateLimited(message, retry_after=window - (time.time() % window))


def check(key: str, *, rate: float, burst: int, message=None) -> None:
    """Raise RateLimited (with `message`) if `key` has no budget left, without spending any."""
    cache_key, window = _window(key, rate, burst)
    count = _shared(lambda: _cache().get(cache_key) or 0)
    if count is not None and count >= burst:
        raise _refusal(window, message)


# The default cache, and its Redis client, built once per process. Django builds a cache
# object per context, and every HTTP request runs in a fresh one (ADR 0010): for Redis that
# cost ~0.5 ms of CPU per request (options, client object). Both backends we use (Redis,
# local memory) are safe to share between threads.
_process: dict = {}


def _cache():
    if "cache" not in _process:
        _process["cache"] = caches.create_connection("default")
    return _process["cache"]


def _redis_client(cache):
    if "redis" not in _process:
        _process["redis"] = cache._cache.get_client(write=True)
    return _process["redis"]


@receiver(setting_changed)
def _settings_changed(setting, **kwargs):
    if setting == "CACHES":  # tests point the cache elsewhere
        _process.clear()


def _increment(cache_key: str, timeout: int) -> int:
    cache = _cache()
    if isinstance(cache, RedisCache):
        # One round trip for all but a window's first hit (Django's add + incr costs three).
        # The window is part of the key, so a key left without expiry by a crash between
        # the two commands is never read again.
        key = cache.make_and_validate_key(cache_key)
        client = _redis_client(cache)
        count = client.incr(key)
        if count == 1:
            client.expire(key, timeout)
        return count
    cache.add(cache_key, 0, timeout=timeout)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=timeout)
        return 1


# The shared cache (Redis) may be away for a moment. Refusing every message, sign-in and
# guest session until it is back would be an outage; letting them through without a
# budget for that moment is the lesser harm. A Redis that hangs rather than refuses costs
# one socket timeout (settings.CACHE_TIMEOUT_SECONDS) per CACHE_RETRY_SECONDS per process.
_breaker = Breaker(settings.CACHE_RETRY_SECONDS)
_outage = QuietLog(log, "rate-limit cache (Redis)", "requests let through without a budget")


def _shared(call):
    """call() against the shared cache, or None (no budget) while it is away."""
    if not _breaker.allow():
        _outage.failed()
        return None
    try:
        result = call()
    except Exception as exc:
        _breaker.failed()
        _outage.failed(exc)
        return None
    _breaker.succeeded()
    _outage.recovered()
    return result


def hit(key: str, *, rate: float, burst: int, message=None) -> None:
    """Spend one unit of `key`'s shared budget or raise RateLimited (with `message`, or
    the default about messages).

    A fixed window of burst/rate seconds holding `burst` units (so at most 2 x burst
    across a window boundary) stands in for a token bucket with one atomic cache
    increment, which both the locmem and the Redis cache provide."""
    cache_key, window = _window(key, rate, burst)
    count = _shared(lambda: _increment(cache_key, window + 1))
    if count is not None and count > burst:
        raise _refusal(window, message)


def within(key: str, seconds: int, times: int = 1, *, while_away: bool = True) -> bool:
    """True for the first `times` calls with `key` in a fixed window of `seconds`, shared by
    every process. While the cache is away: `while_away`."""
    cache_key, window = _window(key, times / seconds, times)
    count = _shared(lambda: _increment(cache_key, window + 1))
    return while_away if count is None else count <= times


def first_use(key: str, seconds: int, *, while_away: bool = True) -> bool:
    """True the first time `key` is seen within `seconds`, shared by every process: a guard
    against replays (a token's id used twice). While the cache is away: `while_away`."""
    added = _shared(lambda: _cache().add(f"once:{key}", 1, timeout=seconds))
    return while_away if added is None else bool(added)
