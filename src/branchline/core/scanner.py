"""The virus scanner: ClamAV's clamd (settings.BRANCHLINE["CLAMD"]), asked over its local
socket or TCP with INSTREAM (clamav-client, docs/adr/0021). Every file is scanned before it
is stored; when the scanner cannot answer, the file is refused, never kept unscanned.

A clamd that hangs costs one timeout (CLAMD_TIMEOUT_SECONDS for the whole exchange), then the breaker
refuses at once for a pause, as for one that is down."""
import logging
import socket
import struct
import time
from urllib.parse import urlsplit

from clamav_client.clamd import (
    BufferTooLongError,
    ClamdError,
    ClamdNetworkSocket,
    ClamdUnixSocket,
    CommunicationError,
)
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .errors import TooLarge, Unavailable
from .outage import Breaker, QuietLog

log = logging.getLogger(__name__)
_breaker = Breaker(pause=5.0)
_outage = QuietLog(log, "The virus scanner (clamd)", "uploads refused")


class ScannerUnavailable(Unavailable):
    code = "scanner_unavailable"
    default_message = _("Files cannot be checked for viruses at the moment, so none are accepted. "
                        "Try again in a few minutes.")
    retry_after = 5.0


CHUNK = 64 * 1024  # INSTREAM chunks (clamd's StreamMaxLength bounds their sum, not their size)


class _Bounded:
    """clamav-client's socket, bounded as a whole: the timeout is set before connecting (the
    library sets it after, so a clamd whose backlog is full would hold the upload forever), and
    one deadline covers the whole exchange, not each read and write."""

    def _init_socket(self) -> None:
        try:
            self.clamd_socket = socket.socket(self.family, socket.SOCK_STREAM)
            self.clamd_socket.settimeout(self.timeout)
            self.clamd_socket.connect(self.address)
        except OSError as err:
            raise CommunicationError(self._error_message(err)) from err

    def _left(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CommunicationError("the scan took longer than CLAMD_TIMEOUT_SECONDS")
        self.clamd_socket.settimeout(remaining)

    def scan_bytes(self, data: bytes, deadline: float) -> tuple[str, str | None]:
        """(status, what was found) for `data`: ("OK", None), ("FOUND", name) or ("ERROR", why)."""
        self._init_socket()
        try:
            self._left(deadline)
            self._send_command("INSTREAM")
            view = memoryview(data)
            try:
                for start in range(0, len(data), CHUNK):
                    self._left(deadline)
                    chunk = view[start:start + CHUNK]
                    self.clamd_socket.sendall(struct.pack("!L", len(chunk)) + chunk)
                self._left(deadline)
                self.clamd_socket.sendall(struct.pack("!L", 0))
            except (BrokenPipeError, ConnectionResetError):
                pass  # clamd stopped reading: beyond its StreamMaxLength it says so, then hangs up
            result = self._recv_response()
        except OSError as err:
            raise CommunicationError(str(err)) from err
        finally:
            self._close_socket()
        if result == "INSTREAM size limit exceeded. ERROR":
            raise BufferTooLongError(result)
        _name, found, status = self._parse_response(result)
        return status, found


class _UnixScanner(_Bounded, ClamdUnixSocket):
    family = socket.AF_UNIX

    @property
    def address(self):
        return self.unix_socket


class _NetworkScanner(_Bounded, ClamdNetworkSocket):
    family = socket.AF_INET

    @property
    def address(self):
        return (self.host, self.port)


class FileTooLargeToScan(TooLarge):
    code = "file_too_large"
    default_message = _("The file is larger than the virus scanner accepts.")


def _client():
    address, timeout = settings.BRANCHLINE["CLAMD"], settings.BRANCHLINE["CLAMD_TIMEOUT_SECONDS"]
    if not address:
        return None
    if address.startswith("tcp://"):
        parts = urlsplit(address)
        return _NetworkScanner(parts.hostname, parts.port or 3310, timeout=timeout)
    return _UnixScanner(address, timeout=timeout)


def scan(data: bytes) -> str | None:
    """The name of what the scanner found in `data`, or None when it is clean. Raises
    ScannerUnavailable when no scanner is configured, or it is down, hangs or fails, and
    FileTooLargeToScan when the file is beyond clamd's own StreamMaxLength (that file's fault:
    the scanner is fine)."""
    client = _client()
    if client is None or not _breaker.allow():
        _outage.failed()
        raise ScannerUnavailable()
    deadline = time.monotonic() + settings.BRANCHLINE["CLAMD_TIMEOUT_SECONDS"]
    try:
        status, found = client.scan_bytes(data, deadline)
    except BufferTooLongError:
        _breaker.succeeded()
        raise FileTooLargeToScan() from None
    except (ClamdError, OSError, ValueError) as error:  # down, hanging, or an answer that is not one
        _breaker.failed()
        _outage.failed(error)
        raise ScannerUnavailable() from error
    _breaker.succeeded()  # it answered: whatever it said of this file, the scanner works
    _outage.recovered()
    if status == "FOUND":
        return found
    if status != "OK":  # ERROR: clamd could not scan this file
        log.error("The virus scanner could not scan a file: %s %s", status, found)
        raise ScannerUnavailable()
    return None
