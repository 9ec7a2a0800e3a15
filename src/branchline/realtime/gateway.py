"""The WebSocket endpoint: one socket per client session, at /ws.

Thin on purpose: authenticate, parse a frame, call an action, forward events. The
protocol is documented in docs/protocol.md."""
import asyncio
import json
import logging
import time
from dataclasses import replace
from http.cookies import SimpleCookie
from importlib import import_module
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.http.request import split_domain_port, validate_host
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchline.accounts import allow_lists, staff_sessions
from branchline.accounts.actions import access_refused, customer_for_token, staff_session_activity
from branchline.accounts.models import CustomerSession, token_digest
from branchline.accounts.principals import Principal
from branchline.core.errors import DomainError, InvalidInput, RateLimited, Unauthorized
from branchline.core.http import forwarded_client
from branchline.core.ratelimit import TokenBucket

from . import handlers
from .connection import CLOSE_UNAUTHORIZED, Connection, db
from .registry import registry

log = logging.getLogger(__name__)

VERDICTS_PER_QUERY = 2000  # sign-ins re-checked per query (SQLite binds at most 32766 values)
CLOSE_POLICY = 1008
CLOSE_TOO_MANY = 4429
CLOSE_FLUSH_SECONDS = 5  # at most this long to hand a closing socket's last frames to the server


class TooManySockets(DomainError):
    status = 429
    code = "too_many_sockets"
    default_message = gettext_lazy("Too many open sockets: close one before opening another.")


def _client_address(scope) -> str:
    """As for HTTP (core/http.py): X-Forwarded-For counts only from a trusted proxy."""
    peer = (scope.get("client") or ("",))[0] or ""
    forwarded = [v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-forwarded-for"]
    return forwarded_client(peer, ",".join(forwarded) or None)


def socket_surface(*, is_customer: bool):
    """Sockets belong to the widget's surface (customers, by token) or the console's."""
    return allow_lists.Surface.WIDGET if is_customer else allow_lists.Surface.CONSOLE


def _within_allow_list(surface, address: str) -> None:
    if not allow_lists.allowed(surface, address):
        access_refused(surface=surface, address=address, path="/ws")
        raise allow_lists.IpNotAllowed()


def outside_allow_lists(sockets: list[tuple[bool, str]]) -> list[bool]:
    """For the periodic re-check: which open sockets (is_customer, address) a changed
    allow-list now shuts out."""
    return [not allow_lists.allowed(socket_surface(is_customer=is_customer), address)
            for is_customer, address in sockets]


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _staff_principal_from_cookie(headers: dict[str, str]) -> tuple[Principal, str]:
    """Staff sockets ride on the console's session cookie. The Origin must be our own,
    or any site could open a socket with a signed-in agent's cookie."""
    origin = headers.get("origin")
    if origin and not _own_origin(origin, headers.get("host", "")):
        raise Unauthorized(_("This origin may not open a staff socket."), code="origin_not_allowed")
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:
        raise Unauthorized() from None
    morsel = cookie.get(settings.SESSION_COOKIE_NAME)
    if morsel is None:
        raise Unauthorized()
    return Principal.of_staff(_staff_user(morsel.value)), morsel.value


def _own_origin(origin: str, host: str) -> bool:
    """A configured origin (CSRF_TRUSTED_ORIGINS), or this very host when it is one of
    ALLOWED_HOSTS: a Host header alone proves nothing (the page's own request sets it)."""
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    netloc = urlsplit(origin).netloc
    return netloc == host and validate_host(split_domain_port(netloc)[0], settings.ALLOWED_HOSTS)


def _staff_user(session_key: str):
    """The active member of staff signed in by this session, or Unauthorized."""
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = staff_sessions.signed_in_user(request)
    if not user.is_authenticated or not user.is_active:
        raise Unauthorized()
    return user


def _customer_principal_from_token(token) -> Principal:
    if not isinstance(token, str):
        raise Unauthorized()
    return Principal.of_customer(customer_for_token(token))


def authenticate(headers, hello: dict) -> tuple[Principal, str, str | None]:
    """The principal; the digest naming its sign-in (the customer's token or the staff
    session key: what a `session.ended` event names); and, for staff, the session key to
    re-check later (a customer's sign-in is re-checked by its digest)."""
    token = hello.get("token")
    if token is not None:
        return _customer_principal_from_token(token), token_digest(token), None
    principal, session_key = _staff_principal_from_cookie(headers)
    return principal, token_digest(session_key), session_key


def signed_in_verdicts(sign_ins: list[tuple[str, str | None]]) -> list[bool]:
    """Which sign-ins (digest, staff session key or None) still hold. Customer tokens
    in one query per few thousand sockets, however many."""
    digests = sorted({digest for digest, session_key in sign_ins if session_key is None})
    valid = set()
    for start in range(0, len(digests), VERDICTS_PER_QUERY):
        valid.update(
            CustomerSession.objects.filter(token_hash__in=digests[start:start + VERDICTS_PER_QUERY], revoked_at=None,
                                           expires_at__gt=timezone.now()).values_list("token_hash", flat=True)
        )
    return [digest in valid if session_key is None else _staff_session_holds(session_key)
            for digest, session_key in sign_ins]


def _staff_session_holds(session_key: str) -> bool:
    try:
        _staff_user(session_key)
    except Unauthorized:
        return False
    return True


def parse_frame(message: dict, limit: int) -> dict:
    text = message.get("text")
    if text is None:
        raise InvalidInput(_("Send text frames holding JSON objects."), code="frame_not_text")
    if len(text.encode()) > limit:
        raise InvalidInput(_("Frames are limited to %(limit)s bytes.") % {"limit": limit}, code="frame_too_large")
    try:
        frame = json.loads(text)
    except ValueError:
        raise InvalidInput(_("The frame is not valid JSON."), code="frame_not_json") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise InvalidInput(_('A frame is a JSON object with a "type".'), code="frame_invalid")
    return frame


def _error(exc: DomainError, ref=None) -> str:
    body = {"type": "error", "error": exc.as_dict()}
    if ref is not None:
        body["ref"] = ref
    return json.dumps(body)


async def websocket_app(scope, receive, send) -> None:
    if scope["path"].rstrip("/") != "/ws":
        await send({"type": "websocket.close", "code": 4404})  # before accept: HTTP 403
        return
    first = await receive()
    if first["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    limits = settings.BRANCHLINE
    # Counted from the moment it opens (a socket waiting for hello holds memory too).
    address = _client_address(scope)
    try:
        if registry.address_opened(address) > limits["SOCKETS_PER_ADDRESS"]:
            await _refuse(send, TooManySockets())
        else:
            await _session(scope, receive, send, limits)
    finally:
        registry.address_closed(address)


async def _session(scope, receive, send, limits) -> None:
    # An open socket's coroutine frames live as long as it does: they keep only the
    # connection, never the hello, its headers or the ready payload (see _hello, _ready).
    signed_in = await _hello(scope, receive, send, limits)
    if signed_in is None:
        return
    principal, session, session_key, resume, keys = signed_in
    connection = Connection(send, principal, queue_max=limits["SOCKET_SEND_QUEUE_MAX"])
    connection.session, connection.session_key = session, session_key
    connection.audiences = keys
    # Joined before the resume read, so nothing published meanwhile is missed: it is
    # held until the read is sent, then placed by number.
    connection.syncing = True
    registry.add(connection)
    try:
        await _ready(connection, resume)
        signed_in = resume = None  # not kept for the socket's life
        await _serve(connection, receive, limits)
    finally:
        registry.remove(connection)
        # Returning closes the transport at once: first let the writer send what is queued
        # (e.g. the errors before a 1008) and the close frame, so the client gets a handshake.
        await connection.finish(CLOSE_FLUSH_SECONDS)
        if principal.is_customer and not registry.has_customer(principal.id):
            # The grace period for live-only customers starts now.
            asyncio.ensure_future(_safe(db(handlers.customer_left, principal)))


async def _hello(scope, receive, send, limits) -> tuple[Principal, str, str | None, dict[int, int], tuple] | None:
    """Authenticate within a few seconds: the principal, its sign-in, the resume map and its
    audiences; None once the socket has been refused."""
    try:
        message = await asyncio.wait_for(receive(), limits["HELLO_TIMEOUT_SECONDS"])
    except asyncio.TimeoutError:
        await _refuse(send, Unauthorized(_("Send a hello frame first."), code="hello_timeout"))
        return None
    if message["type"] == "websocket.disconnect":
        return None
    try:
        hello = parse_frame(message, limits["FRAME_MAX_BYTES"])
        if hello["type"] != "hello":
            raise Unauthorized(_("The first frame must be a hello."), code="hello_required")
        address = _client_address(scope)
        # Before authenticating: an outsider learns nothing about the token it sent.
        await db(_within_allow_list, socket_surface(is_customer=hello.get("token") is not None), address)
        principal, session, session_key = await db(authenticate, _headers(scope), hello)
        principal = replace(principal, address=address)  # for the audit trail
        (keys,) = await db(handlers.audiences_of, [principal])
        resume = handlers.parse_resume(hello.get("resume"))
        cap = limits["SOCKETS_PER_CUSTOMER" if principal.is_customer else "SOCKETS_PER_STAFF"]
        if registry.sockets_of(principal) >= cap:
            raise TooManySockets()
    except DomainError as exc:
        await _refuse(send, exc)
        return None
    return principal, session, session_key, resume, keys


async def _ready(connection: Connection, resume: dict[int, int]) -> None:
    ready = await db(handlers.ready_payload, connection.principal, resume)
    connection.cursors.update(ready.pop("_cursors"))
    connection.send_event("ready", **ready)
    connection.syncing = False
    connection.start_sync()


async def _safe(awaitable):
    try:
        await awaitable
    except Exception:
        log.exception("background socket task failed")


async def _refuse(send, exc: DomainError) -> None:
    code = CLOSE_UNAUTHORIZED if exc.status == 401 else CLOSE_TOO_MANY if exc.status == 429 else CLOSE_POLICY
    await send({"type": "websocket.send", "text": _error(exc)})
    await send({"type": "websocket.close", "code": code})


async def _serve(connection: Connection, receive, limits) -> None:
    bucket = TokenBucket(limits["FRAME_RATE_PER_SECOND"], limits["FRAME_RATE_BURST"])
    refused_in_a_row = 0
    while not connection.closed:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        wait = bucket.take()  # every frame counts, well-formed or not
        refused_in_a_row = refused_in_a_row + 1 if wait else 0
        if refused_in_a_row > 5 * limits["FRAME_RATE_BURST"]:
            connection.close(code=CLOSE_POLICY)  # a client ignoring rate_limited
            return
        await _answer(connection, message, wait, limits)
        message = None  # an idle socket keeps no frame alive


async def _staff_activity(connection: Connection, frame: dict) -> None:
    """What a member of staff sends (not the client's automatic pings) keeps their session
    from idling out; told at most once a minute per socket."""
    if connection.session_key is None or frame["type"] in ("ping", "resume"):
        return
    now = time.monotonic()
    if now - connection.active_at >= staff_sessions.TOUCH_EVERY_SECONDS:
        connection.active_at = now
        await db(staff_session_activity, connection.session_key)


async def _answer(connection: Connection, message: dict, wait: float, limits) -> None:
    ref = None
    try:
        # Parsed before the verdict (frames are small) so that a refusal names its request.
        frame = parse_frame(message, limits["FRAME_MAX_BYTES"])
        ref = frame.get("ref")
        if ref is not None and (not isinstance(ref, (str, int)) or len(str(ref)) > 64):
            ref = None
            raise InvalidInput(_("ref must be a short string or number."), code="ref_invalid")
        if wait:
            raise RateLimited(retry_after=wait)
        await _staff_activity(connection, frame)
        await handlers.handle(connection, frame, ref)
    except DomainError as exc:
        connection.enqueue(_error(exc, ref))
    except Exception:
        log.exception("socket frame failed")
        connection.enqueue(_error(DomainError(_("Something went wrong; try again."), code="internal"), ref))
