from django.conf import settings
from django.middleware.csrf import get_token
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.utils import check_csrf
from pydantic import model_validator

from branchline.contacts.schemas import CustomerRef
from branchline.core import ratelimit
from branchline.core.errors import Forbidden, Unauthorized, UnsupportedMediaType
from branchline.core.http import client_address
from branchline.core.schemas import ErrorOut
from branchline.core.wire import timestamp

from . import actions, allow_lists
from .actions import second_factor, sso, staff_sign_in, staff_sign_out, tokens
from .auth import customer_auth, staff_auth
from .permissions import require_administrator

router = Router()


class CustomerSessionOut(Schema):
    token: str
    expires_in: int
    customer: CustomerRef


class StaffSignIn(Schema):
    username: str
    password: str


class StaffOut(Schema):
    id: int
    username: str
    name: str
    role: str
    line_of_business: str | None


def customer_session_out(customer, token):
    return {
        "token": token,
        "expires_in": settings.BRANCHLINE["CUSTOMER_TOKEN_HOURS"] * 3600,
        "customer": {"id": customer.id, "name": customer.display_name, "authenticated": customer.is_authenticated},
    }


@router.post("/customer/sessions/anonymous", response={201: CustomerSessionOut, 429: ErrorOut},
             tags=["customer"], summary="Start an anonymous (live-only) customer session")
def customer_session_anonymous(request):
    per_minute = settings.BRANCHLINE["ANONYMOUS_SESSIONS_PER_MINUTE"]
    ratelimit.hit(f"anon-session:{client_address(request)}", rate=per_minute / 60, burst=per_minute)
    customer, token = actions.customer_session_anonymous()
    return Status(201, customer_session_out(customer, token))


class SsoStartIn(Schema):
    silent: bool = Field(False, description="prompt=none: sign in only if already signed in at the bank")


class SsoStartOut(Schema):
    authorize_url: str
    binding: str = Field(description="Keep it (never in a URL) and send it with the code to redeem this sign-in")


class SsoRedeemIn(Schema):
    code: str = Field(description="The code the sign-in callback put in the widget URL's #sso= fragment")
    binding: str = Field(description="The binding POST /customer/sso/start returned to this widget")


class SsoAppIn(Schema):
    id_token: str = Field(description="The mobile app's ID token from the bank's provider")


def sso_budget(request) -> None:
    per_minute = settings.BRANCHLINE["SSO_SIGN_INS_PER_MINUTE"]
    ratelimit.hit(f"sso:{client_address(request)}", rate=per_minute / 60, burst=per_minute)


def _bearer_customer(request):
    """The customer of an optional bearer token: a guest signing in from a chat."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized()
    return actions.customer_for_token(token.strip())


@router.post("/customer/sso/start", response={200: SsoStartOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut,
                                               429: ErrorOut, 503: ErrorOut},
             tags=["customer"], summary="Begin signing in with the bank: where to send the browser")
def customer_sso_start(request, payload: SsoStartIn):
    sso_budget(request)
    guest = _bearer_customer(request)
    url, binding = sso.sso_sign_in_start(guest=guest, silent=payload.silent)
    return {"authorize_url": url, "binding": binding}


@router.post("/customer/sessions/oidc-token",
             response={201: CustomerSessionOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut,
                       503: ErrorOut},
             tags=["customer"], summary="Mobile app: exchange the bank's ID token for a chat session")
def customer_session_oidc_token(request, payload: SsoAppIn):
    sso_budget(request)
    customer, token = sso.sso_app_exchange(id_token=payload.id_token)
    return Status(201, customer_session_out(customer, token))


@router.delete("/customer/session", auth=customer_auth, response={204: None, 401: ErrorOut}, tags=["customer"],
               summary="Sign the customer's token out")
def customer_session_end(request):
    actions.customer_session_end(token=request.auth_token)
    return Status(204, None)


def _staff_out(user):
    return {"id": user.id, "username": user.username, "name": user.display_name, "role": user.role,
            "line_of_business": user.line_of_business.name if user.line_of_business_id else None}


class CsrfOut(Schema):
    csrf_token: str


@router.get("/staff/csrf", response={200: CsrfOut}, tags=["staff"],
            summary="A CSRF token (and its cookie): send it as X-CSRFToken with every cookie-authenticated call, "
                    "sign-in included")
def staff_csrf(request):
    return {"csrf_token": get_token(request)}


class SecondFactorNext(Schema):
    next: str = Field(description='"second_factor": send a code to POST /staff/session/second-factor; '
                                  '"enrol": set up an authenticator first (POST /staff/session/totp-enrolment)')


class TotpEnrolmentOut(Schema):
    secret: str = Field(description="Base32, to type into an authenticator app")
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as a QR code (SVG), to scan")


class SecondFactorIn(Schema):
    code: str | None = Field(None, description="6 digits from the authenticator, or a recovery code")
    passkey: dict | None = Field(None, description="Or: the browser's answer to POST /staff/session/passkey-options "
                                                   "(navigator.credentials.create or .get, as WebAuthn's JSON)")

    @model_validator(mode="after")
    def _one_factor(self):
        if (self.code is None) == (self.passkey is None):
            raise ValueError("send either code or passkey")
        return self


class PasskeyOptionsOut(Schema):
    mode: str = Field(description='"register" (navigator.credentials.create: they have no second factor yet) or '
                                  '"sign_in" (navigator.credentials.get: one of their passkeys)')
    public_key: dict = Field(description="WebAuthn's options as JSON (PublicKeyCredentialCreationOptionsJSON or "
                                         "PublicKeyCredentialRequestOptionsJSON); its challenge is good once, for 5 "
                                         "minutes")


class SignedInOut(StaffOut):
    recovery_codes: list[str] | None = Field(None, description="After enrolment only: shown this once")


def _refuse_login_csrf(request) -> None:
    """Login CSRF: without these a foreign page could sign a staff member's browser in as
    someone else (a text/plain form post needs no preflight)."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType()
    _require_csrf(request)


def _require_csrf(request) -> None:
    if check_csrf(request) is not None:
        raise Forbidden(_("The CSRF token is missing or wrong: fetch one from /api/staff/csrf."), code="csrf_failed")


@router.post("/staff/session", response={200: StaffOut, 202: SecondFactorNext, 401: ErrorOut, 403: ErrorOut,
                                        415: ErrorOut, 422: ErrorOut, 429: ErrorOut}, tags=["staff"],
             summary="Sign a member of staff in (sets the session cookie). JSON only, with the CSRF token of "
                     "GET /api/staff/csrf. 202: the password was right, the second factor comes next")
def staff_session_start(request, payload: StaffSignIn):
    _refuse_login_csrf(request)
    user, next_step = staff_sign_in(request, username=payload.username, password=payload.password)
    return Status(202, {"next": next_step}) if next_step else _staff_out(user)


@router.post("/staff/session/totp-enrolment", response={200: TotpEnrolmentOut, 401: ErrorOut, 403: ErrorOut,
                                                        415: ErrorOut}, tags=["staff"],
             summary="After the password, for someone without an authenticator: its secret and QR code")
def staff_totp_enrolment(request):
    _require_csrf(request)
    return second_factor.totp_enrolment(request)


@router.post("/staff/session/passkey-options", response={200: PasskeyOptionsOut, 401: ErrorOut, 403: ErrorOut},
             tags=["staff"], summary="After the password: WebAuthn options to register a passkey, or to sign in with "
                                     "one (401 no_passkey if they have an authenticator only)")
def staff_passkey_options(request):
    _require_csrf(request)
    return second_factor.passkey_options(request)


@router.post("/staff/session/second-factor", response={200: SignedInOut, 401: ErrorOut, 403: ErrorOut, 415: ErrorOut,
                                                       422: ErrorOut, 429: ErrorOut}, tags=["staff"],
             summary="The second factor: signs the person in (after enrolment, with their recovery codes)")
def staff_second_factor(request, payload: SecondFactorIn):
    _refuse_login_csrf(request)
    user, recovery_codes = second_factor.second_factor_verify(request, code=payload.code, passkey=payload.passkey)
    return {**_staff_out(user), "recovery_codes": recovery_codes}


@router.delete("/staff/session", auth=staff_auth, response={204: None, 401: ErrorOut}, tags=["staff"])
def staff_session_end(request):
    staff_sign_out(request)
    return Status(204, None)


@router.get("/staff/me", auth=staff_auth, response={200: StaffOut, 401: ErrorOut}, tags=["staff"])
def staff_me(request):
    return _staff_out(request.user)


# --- administration: IP allow-lists ----------------------------------------------------------

class AllowListsOut(Schema):
    surfaces: dict[str, list[str]] = Field(description="widget, console, admin, api: the networks each may be "
                                                       "reached from; an empty list is open to all")


class AllowListIn(Schema):
    networks: list[str] = Field(description='Addresses or networks, e.g. ["10.20.0.0/16", "192.0.2.7"]; [] opens '
                                            "the surface")


class AllowListOut(Schema):
    surface: str
    networks: list[str]


@router.get("/admin/ip-allow-lists", auth=staff_auth, response={200: AllowListsOut, 401: ErrorOut, 403: ErrorOut},
            tags=["admin"], summary="The IP allow-list of every surface")
def admin_allow_lists(request):
    require_administrator(request.principal)
    return {"surfaces": allow_lists.stored()}


@router.put("/admin/ip-allow-lists/{surface}", auth=staff_auth,
            response={200: AllowListOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}, tags=["admin"],
            summary="Set a surface's IP allow-list (requests from elsewhere get 403 ip_not_allowed, audited)")
def admin_allow_list_set(request, surface: str, payload: AllowListIn):
    networks = actions.ip_allow_list_set(principal=request.principal, surface=surface, networks=payload.networks)
    return {"surface": surface, "networks": networks}


# --- administration: technical accounts (API tokens) -----------------------------------------

class ApiTokenOut(Schema):
    id: int
    name: str
    owner: str = Field(description="The member of staff who answers for it")
    scopes: list[str]
    prefix: str = Field(description="The secret's first characters, to recognise it")
    created_at: str
    created_by: str
    expires_at: str
    revoked_at: str | None
    last_used_at: str | None
    rotated_from: int | None


class ApiTokenSecretOut(ApiTokenOut):
    token: str = Field(description="The secret: shown this once, stored only as a digest")


class ApiTokenIn(Schema):
    name: str
    scopes: list[str] = Field(description="From GET /admin/api-token-scopes")
    expires_in_days: int = Field(90, description="1 to 365")
    owner_id: int | None = Field(None, description="A member of staff of your line of business; default: you")


class ApiTokenRotateIn(Schema):
    grace_hours: int = Field(0, description="How long the old secret still works (0 to 72)")


def _iso(value):
    return timestamp(value) if value else None


def _token_out(token, secret=None) -> dict:
    out = {"id": token.id, "name": token.name, "owner": token.owner.display_name, "scopes": token.scopes,
           "prefix": token.prefix, "created_at": timestamp(token.created_at), "created_by": token.created_by,
           "expires_at": timestamp(token.expires_at), "revoked_at": _iso(token.revoked_at),
           "last_used_at": _iso(token.last_used_at), "rotated_from": token.rotated_from_id}
    if secret is not None:
        out["token"] = secret
    return out


ADMIN_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.get("/admin/api-token-scopes", auth=staff_auth, response={200: dict[str, str], **ADMIN_ERRORS},
            tags=["admin"], summary="The scopes a technical account's token may have")
def admin_api_token_scopes(request):
    require_administrator(request.principal)
    return {name: str(description) for name, description in tokens.SCOPES.items()}


@router.get("/admin/api-tokens", auth=staff_auth, response={200: list[ApiTokenOut], **ADMIN_ERRORS}, tags=["admin"],
            summary="Technical accounts of your line of business (never their secrets)")
def admin_api_tokens(request):
    return [_token_out(token) for token in tokens.api_tokens(principal=request.principal)]


@router.post("/admin/api-tokens", auth=staff_auth, response={201: ApiTokenSecretOut, **ADMIN_ERRORS}, tags=["admin"],
             summary="Create a technical account's token (the secret is in this answer only)")
def admin_api_token_create(request, payload: ApiTokenIn):
    token, secret = tokens.api_token_create(principal=request.principal, name=payload.name, scopes=payload.scopes,
                                            expires_in_days=payload.expires_in_days, owner_id=payload.owner_id)
    return Status(201, _token_out(token, secret))


@router.post("/admin/api-tokens/{token_id}/rotate", auth=staff_auth, response={201: ApiTokenSecretOut, **ADMIN_ERRORS},
             tags=["admin"], summary="A new secret for the account; the old one stops (after grace_hours)")
def admin_api_token_rotate(request, token_id: int, payload: ApiTokenRotateIn):
    token, secret = tokens.api_token_rotate(principal=request.principal, token_id=token_id,
                                            grace_hours=payload.grace_hours)
    return Status(201, _token_out(token, secret))


@router.delete("/admin/api-tokens/{token_id}", auth=staff_auth, response={200: ApiTokenOut, **ADMIN_ERRORS},
               tags=["admin"], summary="Revoke a token at once")
def admin_api_token_revoke(request, token_id: int):
    return _token_out(tokens.api_token_revoke(principal=request.principal, token_id=token_id))


# --- administration: the bank sign-in's claim mapping -----------------------------------------

class ClaimMappingItem(Schema):
    claim: str = Field(description="The claim's name in the bank's ID token, e.g. customer_number")
    label: str = Field(description="What agents see it as, e.g. Customer number")


class ClaimMappingIO(Schema):
    claims: list[ClaimMappingItem] = Field(description="In the order agents see them; [] keeps none beyond the name")


def _mapping_out(pairs) -> dict:
    return {"claims": [{"claim": claim, "label": label} for claim, label in pairs]}


@router.get("/admin/sso-claims", auth=staff_auth, response={200: ClaimMappingIO, **ADMIN_ERRORS}, tags=["admin"],
            summary="Which of the bank sign-in's claims agents see about a customer")
def admin_claim_mapping(request):
    require_administrator(request.principal)
    return _mapping_out(sso.claim_mapping())


@router.put("/admin/sso-claims", auth=staff_auth, response={200: ClaimMappingIO, **ADMIN_ERRORS}, tags=["admin"],
            summary="Set the claim mapping (applies from each customer's next sign-in; audited)")
def admin_claim_mapping_set(request, payload: ClaimMappingIO):
    pairs = sso.claim_mapping_set(principal=request.principal, claims=[item.dict() for item in payload.claims])
    return _mapping_out(pairs)
