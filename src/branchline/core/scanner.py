"""The virus scanner: ClamAV's clamd (settings.BRANCHLINE["CLAMD"]), asked over its local
socket or TCP with INSTREAM (clamav-client, docs/adr/0021). Every file is scanned before it
is stored; when the scanner cannot answer, the file is refused, never kept unscanned.

A clamd that hangs costs one timeout (CLAMD_TIMEOUT_SECONDS per exchange), then the breaker
refuses at once for a pause, as for one that is down."""
import io
import logging
from urllib.parse import urlsplit

from clamav_client.clamd import ClamdError, ClamdNetworkSocket, ClamdUnixSocket
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .errors import Unavailable
from .outage import Breaker, QuietLog

log = logging.getLogger(__name__)
_breaker = Breaker(pause=5.0)
_outage = QuietLog(log, "The virus scanner (clamd)", "uploads refused")


class ScannerUnavailable(Unavailable):
    code = "scanner_unavailable"
    default_message = _("Files cannot be checked for viruses at the moment, so none are accepted. "
                        "Try again in a few minutes.")
    retry_after = 5.0


def _client():
    address, timeout = settings.BRANCHLINE["CLAMD"], settings.BRANCHLINE["CLAMD_TIMEOUT_SECONDS"]
    if not address:
        return None
    if address.startswith("tcp://"):
        parts = urlsplit(address)
        return ClamdNetworkSocket(parts.hostname, parts.port or 3310, timeout=timeout)
    return ClamdUnixSocket(address, timeout=timeout)


def scan(data: bytes) -> str | None:
    """The name of what the scanner found in `data`, or None when it is clean. Raises
    ScannerUnavailable when no scanner is configured, or it is down, hangs or fails."""
    client = _client()
    if client is None:
        raise ScannerUnavailable()
    if not _breaker.allow():
        _outage.failed()
        raise ScannerUnavailable()
    try:
        result = client.instream(io.BytesIO(data))["stream"]
    except (ClamdError, OSError, KeyError) as error:
        _breaker.failed()
        _outage.failed(error)
        raise ScannerUnavailable() from error
    status, found = result
    if status == "FOUND":
        return found
    if status != "OK":  # ERROR: clamd could not scan it (too large for its limits, or its own fault)
        log.error("The virus scanner could not scan a file: %s %s", status, found)
        raise ScannerUnavailable()
    _breaker.succeeded()
    _outage.recovered()
    return None
