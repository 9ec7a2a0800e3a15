"""Staff single sign-on through the bank's workforce OpenID provider (docs/adr/0017): the
authorization code flow with PKCE, from the console's sign-in page and back to it.

Staff sign-in happens in one browser, so the state, nonce and PKCE verifier wait in the
(server-side) session and are used once. The ID token names the person by issuer and
subject; their first sign-in links that to the Branchline account whose username is the
USERNAME_CLAIM's value (audited), and later sign-ins follow the link only. Nobody is created
here: administrators create staff (ADR 0016). The provider stands for the password; the
second factor follows as after a password, unless PROVIDER_MFA trusts the provider's own
multi-factor sign-in (`amr` "mfa")."""
import hmac
import time

from django.conf import settings
from django.contrib.auth import login
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branchline.core import ratelimit
from branchline.core.errors import Unauthorized
from branchline.core.http import client_address
from branchline.events import Actor, publish

from .. import oidc, staff_sessions
from ..events import StaffIdentityLinked
from ..models import StaffIdentity, User
from .second_factor import pending_start, second_factor_step

FLOW = "_branchline_staff_sso"  # session key: {"state", "nonce", "verifier", "at", "next"}
BACKEND = "branchline.accounts.staff_sessions.StaffBackend"
MFA = "mfa"


def _config() -> dict:
    return settings.STAFF_OIDC


def staff_sso_start(request, *, next_page: str) -> str:
    """Where to send the browser to sign in at the workforce provider. Budgeted per address
    (each start may make us read the provider's documents)."""
    oidc.staff.require_enabled()
    per_minute = settings.BRANCHLINE["SSO_SIGN_INS_PER_MINUTE"]
    ratelimit.hit(f"staff-sso:{client_address(request)}", rate=per_minute / 60, burst=per_minute)
    flow = oidc.staff.authorization_request()
    request.session[FLOW] = {"state": flow.state, "nonce": flow.nonce, "verifier": flow.code_verifier,
                             "at": time.time(), "next": next_page}
    return flow.url


def staff_sso_return(request, *, state, code, error, iss) -> tuple[User, str | None, str]:
    """The provider sent the browser back: (the member of staff, the step that follows as
    after a password (None: signed in), where they were going). Unauthorized with a code
    when the flow is not this session's, the provider refused, or nobody here is linked."""
    oidc.staff.require_enabled()
    flow = request.session.pop(FLOW, None)  # used once, whatever happens next
    if (not flow or time.time() - flow["at"] > _config()["LOGIN_MINUTES"] * 60
            or not isinstance(state, str) or not hmac.compare_digest(state, flow["state"])):
        raise Unauthorized(_("That sign-in is not this browser's, or it took too long. Start again."),
                           code="sso_state_invalid")
    if error:
        raise oidc.SsoRefused(code=f"sso_{oidc.provider_error(error)}")
    if iss is not None and iss != _config()["ISSUER"] or not isinstance(code, str) or not code:
        raise oidc.SsoRefused()
    tokens = oidc.staff.redeem_code(code=code, code_verifier=flow["verifier"])
    claims = oidc.staff.verify_id_token(tokens.get("id_token"), audiences=[_config()["CLIENT_ID"]],
                                        nonce=flow["nonce"])
    user = _linked(request, claims)
    if user is None:
        raise Unauthorized(_("You have no Branchline account, or it is not active: ask an administrator."),
                           code="sso_no_account")
    user.backend = BACKEND
    amr = claims.get("amr")
    provider_mfa = _config()["PROVIDER_MFA"] and isinstance(amr, list) and MFA in amr
    step = None if provider_mfa else second_factor_step(user)
    if step:
        pending_start(request, user)
    else:
        login(request, user, backend=BACKEND)
        staff_sessions.signed_in(request.session)
    return user, step, flow["next"]


def _linked(request, claims: dict) -> User | None:
    """The active member of staff this provider's subject is linked to; at their first
    sign-in, the account named by USERNAME_CLAIM, if it is not linked to another subject."""
    issuer, subject = _config()["ISSUER"], claims["sub"]
    with transaction.atomic():
        identity = StaffIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
        if identity is not None:
            StaffIdentity.objects.filter(pk=identity.pk).update(last_used_at=timezone.now())
            return identity.user if identity.user.is_active else None
        username = claims.get(_config()["USERNAME_CLAIM"])
        user = User.objects.filter(username=username, is_active=True).first() if isinstance(username, str) else None
        if user is None:
            return None
        try:
            with transaction.atomic():
                StaffIdentity.objects.create(user=user, issuer=issuer, subject=subject, last_used_at=timezone.now())
        except IntegrityError:
            return None  # already linked to another subject of this provider: never re-linked by a name
        publish(StaffIdentityLinked(actor=Actor("staff", user.id, user.display_name, client_address(request)),
                                    user_id=user.id, issuer=issuer, subject=subject))
        return user
