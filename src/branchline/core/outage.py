"""Bookkeeping for a service that is away for a while (Redis, the database): a breaker
that skips it for a pause after a failure, and a log that speaks once per interval.

Both take their clock as an argument so that tests step time instead of sleeping."""
import threading
import time


class Breaker:
    """After a failure callers skip the service for `pause` seconds; then one caller tries
    it again while the others go on skipping. A service that hangs thus costs one timeout
    per pause per process, instead of one per request."""

    def __init__(self, pause: float, *, clock=time.monotonic):
        self.pause, self.clock = pause, clock
        self._retry_at = 0.0  # 0: closed, every caller uses the service
        self._lock = threading.Lock()

    def allow(self) -> bool:
        if not self._retry_at:
            return True
        now = self.clock()
        with self._lock:
            if now < self._retry_at:
                return False
            self._retry_at = now + self.pause  # this caller probes; the others skip until it answers
            return True

    def failed(self) -> None:
        self._retry_at = self.clock() + self.pause

    def succeeded(self) -> None:
        self._retry_at = 0.0


class QuietLog:
    """One warning with the traceback when a service fails, then at most one line per
    `every` seconds counting the requests it affected, and one when it is back: an outage
    under load must not write a traceback per request.

    An outage ends at `recovered()` or, for callers that never see a success, after a
    whole interval without a failure."""

    def __init__(self, logger, service: str, affected: str, *, every: float = 60.0, clock=time.monotonic):
        self.logger, self.service, self.affected = logger, service, affected
        self.every, self.clock = every, clock
        self._since: float | None = None  # start of the outage under way, if any
        self._reported_at = self._last_at = 0.0
        self._unreported = 0
        self._last_error: BaseException | None = None
        self._lock = threading.Lock()

    def failed(self, exc: BaseException | None = None) -> None:
        """One more request affected; `exc` is the error, if this one met one."""
        now = self.clock()
        with self._lock:
            self._last_error = exc or self._last_error
            if self._since is not None and now - self._last_at >= self.every:
                self._end()
            self._last_at = now
            if self._since is None:
                self._since = self._reported_at = now
                self.logger.warning("%s unavailable: %s (reported again at most every %.0f s)",
                                    self.service, self.affected, self.every, exc_info=exc)
                return
            self._unreported += 1
            if now - self._reported_at >= self.every:
                self.logger.warning("%s still unavailable: %d more %s in the last %.0f s (last error: %s: %s)",
                                    self.service, self._unreported, self.affected, now - self._reported_at,
                                    type(self._last_error).__name__, self._last_error)
                self._reported_at, self._unreported = now, 0

    def recovered(self) -> None:
        if self._since is None:
            return
        with self._lock:
            if self._since is not None:
                self._end()

    def _end(self) -> None:
        self.logger.info("%s is back after %.0f s; %d more %s since the last report", self.service,
                         self._last_at - self._since, self._unreported, self.affected)
        self._since, self._unreported = None, 0
