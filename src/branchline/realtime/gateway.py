"""The WebSocket endpoint: one socket per client session, at /ws.

Thin on purpose: authenticate, parse a frame, call an action, forward events. The
protocol is documented in docs/protocol.md."""
import asyncio
import json
import logging
from dataclasses import replace
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from branchline.accounts.principals import Principal
from branchline.core.errors import DomainError, InvalidInput, RateLimited, Unauthorized
from branchline.core.ratelimit import TokenBucket

from . import handlers
from .connection import Connection, db
from .registry import registry

log = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_POLICY = 1008


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _staff_principal_from_cookie(headers: dict[str, str]) -> Principal:
    """Staff sockets ride on the console's session cookie. The Origin must be our own,
    or any site could open a socket with a signed-in agent's cookie."""
    from importlib import import_module

    from django.contrib.auth import get_user
    from django.http import HttpRequest

    origin = headers.get("origin")
    host = headers.get("host", "")
    if origin and urlsplit(origin).netloc != host and origin not in settings.CSRF_TRUSTED_ORIGINS:
        raise Unauthorized(_("This origin may not open a staff socket."), code="origin_not_allowed")
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:
        raise Unauthorized() from None
    morsel = cookie.get(settings.SESSION_COOKIE_NAME)
    if morsel is None:
        raise Unauthorized()
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(morsel.value)
    user = get_user(request)
    if not user.is_authenticated or not user.is_active:
        raise Unauthorized()
    return Principal.of_staff(user)


def _customer_principal_from_token(token) -> Principal:
    from branchline.accounts.actions import customer_for_token

    if not isinstance(token, str):
        raise Unauthorized()
    return Principal.of_customer(customer_for_token(token))


def authenticate(headers, hello: dict) -> tuple[Principal, dict]:
    """The principal, and what to check later to know the sign-in still holds."""
    token = hello.get("token")
    if token is not None:
        return _customer_principal_from_token(token), {"token": token}
    return _staff_principal_from_cookie(headers), {"headers": headers}


def signed_in_verdicts(credentials: list[dict]) -> list[bool]:
    """Which sign-ins still hold. Customer tokens in one query, however many sockets."""
    from django.utils import timezone

    from branchline.accounts.models import CustomerSession, token_digest

    digests = {token_digest(c["token"]) for c in credentials if "token" in c}
    valid = set(
        CustomerSession.objects.filter(token_hash__in=digests, revoked_at=None, expires_at__gt=timezone.now())
        .values_list("token_hash", flat=True)
    ) if digests else set()
    return [token_digest(c["token"]) in valid if "token" in c else still_signed_in(c) for c in credentials]


def still_signed_in(credential: dict) -> bool:
    try:
        if "token" in credential:
            _customer_principal_from_token(credential["token"])
        else:
            _staff_principal_from_cookie(credential["headers"])
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
    limits = settings.BRANCHLINE
    first = await receive()
    if first["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    headers = _headers(scope)

    # --- hello: authenticate within a few seconds ---------------------------------------
    try:
        message = await asyncio.wait_for(receive(), limits["HELLO_TIMEOUT_SECONDS"])
    except asyncio.TimeoutError:
        await _refuse(send, Unauthorized(_("Send a hello frame first."), code="hello_timeout"))
        return
    if message["type"] == "websocket.disconnect":
        return
    try:
        hello = parse_frame(message, limits["FRAME_MAX_BYTES"])
        if hello["type"] != "hello":
            raise Unauthorized(_("The first frame must be a hello."), code="hello_required")
        principal, credential = await db(authenticate, headers, hello)
        principal = replace(principal, address=(scope.get("client") or ("",))[0] or "")
        resume = handlers.parse_resume(hello.get("resume"))
    except DomainError as exc:
        await _refuse(send, exc)
        return

    connection = Connection(send, principal, queue_max=limits["SOCKET_SEND_QUEUE_MAX"])
    connection.credential = credential
    # Joined before the resume read, so nothing published meanwhile is missed: it is
    # held until the read is sent, then placed by number.
    connection.syncing = True
    registry.add(connection)
    try:
        ready = await db(handlers.ready_payload, principal, resume)
        connection.cursors.update(ready.pop("_cursors"))
        connection.send_event("ready", **ready)
        connection.syncing = False
        connection.start_sync()
        await _serve(connection, receive, limits)
    finally:
        registry.remove(connection)
        connection.close()
        if principal.is_customer and not registry.has_customer(principal.id):
            # The grace period for live-only customers starts now.
            asyncio.ensure_future(_safe(db(handlers.customer_left, principal)))


async def _safe(awaitable):
    try:
        await awaitable
    except Exception:
        log.exception("background socket task failed")


async def _refuse(send, exc: DomainError) -> None:
    await send({"type": "websocket.send", "text": _error(exc)})
    await send({"type": "websocket.close", "code": CLOSE_UNAUTHORIZED if exc.status == 401 else CLOSE_POLICY})


async def _serve(connection: Connection, receive, limits) -> None:
    bucket = TokenBucket(limits["FRAME_RATE_PER_SECOND"], limits["FRAME_RATE_BURST"])
    refused_in_a_row = 0
    while not connection.closed:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        ref = None
        wait = bucket.take()  # every frame counts, well-formed or not
        refused_in_a_row = refused_in_a_row + 1 if wait else 0
        if refused_in_a_row > 5 * limits["FRAME_RATE_BURST"]:
            connection.close(code=CLOSE_POLICY)  # a client ignoring rate_limited
            return
        try:
            # Parsed before the verdict (frames are small) so that a refusal names its request.
            frame = parse_frame(message, limits["FRAME_MAX_BYTES"])
            ref = frame.get("ref")
            if ref is not None and (not isinstance(ref, (str, int)) or len(str(ref)) > 64):
                ref = None
                raise InvalidInput(_("ref must be a short string or number."), code="ref_invalid")
            if wait:
                raise RateLimited(retry_after=wait)
            await handlers.handle(connection, frame, ref)
        except DomainError as exc:
            connection.enqueue(_error(exc, ref))
        except Exception:
            log.exception("socket frame failed")
            connection.enqueue(_error(DomainError(_("Something went wrong; try again."), code="internal"), ref))
