"""Staff sign-in's second factor (docs/adr/0015): passkeys (WebAuthn, actions/passkeys.py),
an authenticator app (TOTP) and recovery codes, the latter two with django-otp's devices.
The password step leaves the person *pending* in their session, not signed in; only the
second factor signs them in (Django's `login`), so every check that asks "is this session
signed in?" (API, console, sockets) needs both factors without knowing about them.

STAFF_SECOND_FACTOR "required" (production, which refuses anything else): everyone enrols
at their first sign-in. "optional" (demo, tests): those who enrolled are asked for it."""
import secrets
import time
from base64 import b32encode

import segno
from django.conf import settings
from django.contrib.auth import login
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from branchline.core import ratelimit
from branchline.core.errors import Unauthorized
from branchline.core.http import client_address
from branchline.events import Actor, publish

from .. import staff_sessions
from ..events import SecondFactorEnrolled
from ..models import User
from . import passkeys
from .budgets import sign_in_budgets

PENDING = "_branchline_pending_staff"  # session key: {"user_id", "backend", "at"}
PENDING_SECONDS = 300
RECOVERY_CODES = 10
AUTHENTICATOR = "authenticator"
RECOVERY = "recovery codes"


def _confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_authenticator(user: User) -> bool:
    return _confirmed_totp(user) is not None


def has_second_factor(user: User) -> bool:
    return has_authenticator(user) or passkeys.has_passkey(user)


def second_factor_step(user: User) -> str | None:
    """What follows a right password: "second_factor" (they have a passkey or an
    authenticator), "enrol" (they must set one up), or None (signed in at once: optional,
    none set up)."""
    if has_second_factor(user):
        return "second_factor"
    return "enrol" if settings.BRANCHLINE["STAFF_SECOND_FACTOR"] == "required" else None


def pending_start(request, user: User) -> None:
    """The password was right: the person waits for their second factor."""
    request.session.cycle_key()  # a new key once the password is known (session fixation)
    request.session[PENDING] = {"user_id": user.id, "backend": user.backend, "at": time.time()}


def pending_user(request) -> User:
    """Whoever this session's password step let through, within PENDING_SECONDS, or
    Unauthorized `password_first`."""
    return _pending(request)[0]


def _pending(request) -> tuple[User, str]:
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        raise Unauthorized(_("Sign in with your password first."), code="password_first")
    user = User.objects.filter(pk=pending["user_id"], is_active=True).first()
    if user is None:
        raise Unauthorized(_("Sign in with your password first."), code="password_first")
    return user, pending["backend"]


def totp_enrolment(request) -> dict:
    """For a pending member of staff without an authenticator: its secret, to scan (QR
    code) or type. The device counts once a code from it is verified."""
    user = pending_user(request)
    if has_second_factor(user):
        raise Unauthorized(_("You already have a second factor: use it."), code="already_enrolled")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)
    uri = device.config_url
    return {"secret": _base32(device), "otpauth_uri": uri,
            "qr_svg": segno.make(uri, error="m").svg_inline(scale=4, dark="#0b3a5d", light="#ffffff")}


def _base32(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode()  # the device's key is hex; apps take base32


def passkey_options(request) -> dict:
    """For the pending member of staff: WebAuthn options to register a passkey (no second
    factor yet) or to sign in with one of theirs."""
    user = pending_user(request)
    return passkeys.options(request, user, enrolling=not has_second_factor(user))


def second_factor_verify(request, code=None, passkey=None) -> tuple[User, list[str] | None]:
    """The pending member of staff's second factor: a passkey's answer to passkey_options,
    or a code from their authenticator (at enrolment, from the one they just set up) or a
    recovery code (used up). The first passkey or authenticator to count brings
    RECOVERY_CODES recovery codes, returned this once. Signs them in. Failures count
    against the same budgets as wrong passwords."""
    user, backend = _pending(request)
    budgets = _budgets(request, user)
    for budget in budgets:
        ratelimit.check(**budget, message=_("Too many failed sign-ins. Wait a few minutes and try again."))
    with transaction.atomic():
        if passkey is not None:
            outcome = passkeys.check(request, user, passkey, enrolling=not has_second_factor(user))
            ok, method = outcome is not None, "passkey" if outcome == passkeys.REGISTER else None
        else:
            ok, method = _code_verified(user, code)
        recovery_codes = None
        if method is not None:
            recovery_codes = _new_recovery_codes(user)
            publish(SecondFactorEnrolled(actor=Actor("staff", user.id, user.display_name, client_address(request)),
                                         user_id=user.id, method=method))
    if not ok:
        for budget in budgets:
            ratelimit.hit(**budget)
        raise Unauthorized(_("That passkey was not accepted.") if passkey is not None
                           else _("That code is not right."), code="bad_code")
    del request.session[PENDING]
    login(request, user, backend=backend)
    staff_sessions.signed_in(request.session)
    return user, recovery_codes


def _code_verified(user: User, code) -> tuple[bool, str | None]:
    """(right?, "totp" if this code confirmed a new authenticator)."""
    code = code.strip().replace(" ", "") if isinstance(code, str) else ""
    device = _confirmed_totp(user)
    if device is not None:
        return bool(code.isdigit() and device.verify_token(code) or _recovery_code_used(user, code)), None
    if passkeys.has_passkey(user):
        return _recovery_code_used(user, code), None
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not (code.isdigit() and device.verify_token(code)):
        return False, None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True, "totp"


def _recovery_code_used(user: User, code: str) -> bool:
    token = StaticToken.objects.select_for_update().filter(device__user=user, token=code.lower()).first()
    if token is None:
        return False
    token.delete()
    return True


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY)
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _budgets(request, user: User):
    return sign_in_budgets(client_address(request), user.get_username())
