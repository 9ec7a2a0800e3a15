"""A shared cache (Redis) that hangs or is away: the rate limit lets requests through
without a budget, pays one short timeout per pause instead of one per request, and logs
the outage once per interval instead of a traceback per request. Time is stepped, not
slept through."""
import logging
import re
import socket
import threading

import pytest
from django.test import override_settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from branchline.core import ratelimit
from branchline.core.outage import Breaker, QuietLog

LOGGER = "branchline.core.ratelimit"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class HungServer:
    """Accepts TCP connections and never answers: Redis under SIGSTOP, seen from a client."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        try:
            while True:
                self.accepted.append(self.sock.accept()[0])
        except OSError:  # closed
            pass

    def close(self):
        self.sock.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(ratelimit, "_breaker", Breaker(5.0, clock=clock))
    monkeypatch.setattr(ratelimit, "_outage", QuietLog(logging.getLogger(LOGGER), "rate-limit cache (Redis)",
                                                        "requests let through without a budget", clock=clock))
    return clock


@pytest.fixture
def hung_redis():
    server = HungServer()
    # As settings/base.py configures the cache for REDIS_URL, on a server that never answers.
    options = {"socket_timeout": 0.05, "socket_connect_timeout": 0.05, "retry": Retry(NoBackoff(), 0)}
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                               "LOCATION": f"redis://127.0.0.1:{server.port}/0", "OPTIONS": options}}):
        yield server
    server.close()


def logged(caplog, logger: str = LOGGER) -> list:
    """This logger's records only: a live server of other tests may log from its own thread."""
    return [r for r in caplog.records if r.name == logger]


def spend(times: int) -> None:
    for _ in range(times):
        ratelimit.hit("msg:customer:1", rate=5, burst=20)  # never raises while the cache is away


def test_a_hung_redis_costs_one_timeout_per_pause_not_one_per_request(clock, hung_redis, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    spend(50)
    assert len(hung_redis.accepted) == 1  # one attempt timed out; the other 49 skipped Redis
    clock.now += 4.9
    spend(50)
    assert len(hung_redis.accepted) == 1
    clock.now += 0.2  # the pause is over: one request tries Redis again, and times out
    spend(50)
    assert len(hung_redis.accepted) == 2

    # The log: one warning with the traceback, nothing more within the minute.
    assert [(r.levelname, r.getMessage(), r.exc_info is not None) for r in logged(caplog)] == [
        ("WARNING", "rate-limit cache (Redis) unavailable: requests let through without a budget "
                    "(reported again at most every 60 s)", True)]
    caplog.clear()
    clock.now += 60
    spend(1)
    [(level, message)] = [(r.levelname, r.getMessage()) for r in logged(caplog)]
    # redis-py names the socket or its address, depending on where the read timed out.
    assert level == "WARNING" and re.fullmatch(
        r"rate-limit cache \(Redis\) still unavailable: 150 more requests let through without a budget "
        r"in the last 65 s \(last error: TimeoutError: Timeout reading from (socket|127\.0\.0\.1:\d+)\)", message)
    assert logged(caplog)[0].exc_info is None


def test_a_redis_that_is_down_is_logged_once_not_per_request(clock, caplog):
    """Connection refused: nothing listens on the port any more."""
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    options = {"socket_timeout": 0.05, "socket_connect_timeout": 0.05, "retry": Retry(NoBackoff(), 0)}
    caplog.set_level(logging.INFO, logger=LOGGER)
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                               "LOCATION": f"redis://127.0.0.1:{port}/0", "OPTIONS": options}}):
        for _ in range(20):
            spend(10)
            clock.now += 1  # twenty seconds of traffic, the breaker letting a probe through every 5 s
    (record,) = logged(caplog)
    assert record.levelname == "WARNING" and "Connection refused" in str(record.exc_info[1])


def test_the_rate_limit_counts_again_once_redis_answers(clock, caplog):
    """The locmem cache stands in for a Redis that answers again after an outage."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    ratelimit._breaker.failed()
    ratelimit._outage.failed(TimeoutError("Timeout reading from socket"))
    spend(30)  # skipped: nothing counted
    clock.now += 5
    spend(20)
    with pytest.raises(ratelimit.RateLimited):
        spend(1)
    assert [(r.levelname, r.getMessage()) for r in logged(caplog)][1:] == [
        ("INFO", "rate-limit cache (Redis) is back after 0 s; 30 more requests let through without a budget "
                 "since the last report")]


def test_a_new_outage_after_a_quiet_interval_is_reported_in_full(caplog):
    clock = Clock()
    quiet = QuietLog(logging.getLogger("test.outage"), "database", "requests answered 503", every=60, clock=clock)
    caplog.set_level(logging.INFO, logger="test.outage")
    quiet.failed(OSError("first"))
    clock.now += 1
    quiet.failed(OSError("second"))
    clock.now += 120  # no failure for two minutes: that outage is over, this is a new one
    quiet.failed(OSError("third"))
    first = "database unavailable: requests answered 503 (reported again at most every 60 s)"
    assert [(r.levelname, r.getMessage()) for r in logged(caplog, "test.outage")] == [
        ("WARNING", first),
        ("INFO", "database is back after 1 s; 1 more requests answered 503 since the last report"),
        ("WARNING", first),
    ]
    assert [str(r.exc_info[1]) if r.exc_info else None for r in logged(caplog, "test.outage")] == [
        "first", None, "third"]
