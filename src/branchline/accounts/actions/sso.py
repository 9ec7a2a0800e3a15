"""Customers' sign-in through the bank's OpenID provider: the sign-in's steps as stored
(nonce and PKCE verifier kept on the server; the state, binding and hand-over code, which
travel through browsers, single-use and stored as digests), the customer keyed on issuer +
subject, and the session handed to the widget or app. The protocol itself is
accounts/oidc.py; calls to the provider are made outside any transaction so that no row
stays locked while it answers."""
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchline.contacts.models import Customer
from branchline.core import ratelimit
from branchline.core.errors import InvalidInput, Unauthorized
from branchline.events import Actor, publish

from .. import oidc
from ..events import ClaimMappingChanged, CustomerSignedIn, CustomerSignedOutAtBank
from ..models import ClaimMapping, CustomerSession, SsoSignIn, token_digest
from ..permissions import require_administrator
from . import customer_session_start, customer_sessions_end


class SsoStateInvalid(Unauthorized):
    code = "sso_state_invalid"
    default_message = gettext_lazy("This sign-in is unknown, expired or already used. Start again.")


class SsoCodeInvalid(Unauthorized):
    code = "sso_code_invalid"
    default_message = gettext_lazy("This sign-in code is unknown, expired or already used.")


class SsoTokenReplayed(Unauthorized):
    code = "sso_token_replayed"
    default_message = gettext_lazy("This ID token was already exchanged.")


def _config() -> dict:
    return settings.CUSTOMER_OIDC


def sso_sign_in_start(*, guest: Customer | None = None, silent: bool = False) -> tuple[str, str]:
    """Begin a sign-in; return the provider URL to send the browser to, and the binding the
    widget keeps to redeem the sign-in with. `guest` is the anonymous customer who started
    it from a chat (step-up)."""
    oidc.customers.require_enabled()
    request = oidc.customers.authorization_request(silent=silent)
    binding = secrets.token_urlsafe(32)
    SsoSignIn.objects.create(
        state_hash=token_digest(request.state), binding_hash=token_digest(binding), nonce=request.nonce,
        code_verifier=request.code_verifier,
        silent=silent, guest=guest if guest is not None and not guest.is_authenticated else None,
        expires_at=timezone.now() + timedelta(minutes=_config()["LOGIN_MINUTES"]),
    )
    return request.url, binding


def sso_sign_in_return(*, state, code=None, error=None, iss=None) -> str:
    """The provider sent the browser back. Use the state once, redeem the code, verify the
    ID token (its nonce is this sign-in's) and sign the customer in; return the single-use
    hand-over code the widget exchanges for its token. A provider error (e.g.
    `login_required` after a silent attempt) is raised as SsoRefused with that code."""
    oidc.customers.require_enabled()
    if not isinstance(state, str) or not 0 < len(state) <= 200:
        raise SsoStateInvalid()
    now = timezone.now()
    # One conditional UPDATE: of two returns with the same state (a replay, a double
    # click), exactly one goes on.
    taken = SsoSignIn.objects.filter(state_hash=token_digest(state), kind=SsoSignIn.Kind.BROWSER,
                                     returned_at=None, expires_at__gt=now).update(returned_at=now)
    if not taken:
        raise SsoStateInvalid()
    sign_in = SsoSignIn.objects.get(state_hash=token_digest(state))
    # RFC 9207: a provider that names itself in the response must be ours (mix-up defence).
    if iss is not None and iss != _config()["ISSUER"]:
        raise oidc.SsoRefused(code="sso_issuer_mismatch")
    if error or not isinstance(code, str) or not code:
        reason = oidc.provider_error(error)
        SsoSignIn.objects.filter(pk=sign_in.pk).update(error=reason)
        raise oidc.SsoRefused(code=f"sso_{reason}")
    tokens = oidc.customers.redeem_code(code=code, code_verifier=sign_in.code_verifier)
    claims = oidc.customers.verify_id_token(tokens.get("id_token"), audiences=[_config()["CLIENT_ID"]],
                                            nonce=sign_in.nonce)
    handover = secrets.token_urlsafe(32)
    with transaction.atomic():
        customer = _customer_of(claims)
        SsoSignIn.objects.filter(pk=sign_in.pk).update(
            customer=customer, sid=_sid(claims),
            handover_hash=token_digest(handover))
    return handover


def sso_session_redeem(*, code, binding) -> tuple[Customer, str, int | None]:
    """The widget that started the sign-in exchanges the hand-over code (once, within
    HANDOVER_SECONDS, with the binding it was given at the start) for the customer's bearer
    token. Returns (customer, token, the guest who started it from a chat or None): the
    caller moves that guest's conversations (step-up)."""
    if not all(isinstance(value, str) and 0 < len(value) <= 200 for value in (code, binding)):
        raise SsoCodeInvalid()
    now = timezone.now()
    with transaction.atomic():
        sign_in = (SsoSignIn.objects.select_for_update().select_related("customer")
                   .filter(handover_hash=token_digest(code), redeemed_at=None,
                           returned_at__gt=now - timedelta(seconds=_config()["HANDOVER_SECONDS"])).first())
        # Unknown, spent or late; or another browser's sign-in brought here (login CSRF).
        if (sign_in is None or sign_in.customer is None
                or not secrets.compare_digest(sign_in.binding_hash, token_digest(binding))):
            raise SsoCodeInvalid()
        sign_in.redeemed_at = now
        sign_in.save(update_fields=["redeemed_at"])
        token = customer_session_start(customer=sign_in.customer, sso_sid=sign_in.sid)
        publish(CustomerSignedIn(actor=Actor("customer", sign_in.customer.id, sign_in.customer.display_name),
                                 customer_id=sign_in.customer.id, method=SsoSignIn.Kind.BROWSER))
    return sign_in.customer, token, sign_in.guest_id


def sso_app_exchange(*, id_token) -> tuple[Customer, str]:
    """The mobile app signed the customer in with the bank's provider itself (as its own
    client) and exchanges that ID token for a chat session: verified for one of the
    configured app audiences, and usable once."""
    oidc.customers.require_enabled()
    audiences = _config()["MOBILE_CLIENT_IDS"]
    if not audiences:
        raise oidc.SsoRefused()
    claims = oidc.customers.verify_id_token(id_token, audiences=audiences, nonce=None)
    now = timezone.now()
    if claims["iat"] < now.timestamp() - _config()["APP_TOKEN_MAX_AGE_SECONDS"]:
        raise oidc.SsoRefused()  # a fresh sign-in's token, not one kept (or found) for later
    with transaction.atomic():
        customer = _customer_of(claims)
        try:
            with transaction.atomic():
                # Keyed on what was signed (header and claims), not on the token's text: an ES256
                # signature can be rewritten into another valid one, the same token twice.
                SsoSignIn.objects.create(kind=SsoSignIn.Kind.APP, state_hash=token_digest(id_token.rsplit(".", 1)[0]),
                                         customer=customer, sid=_sid(claims), returned_at=now, redeemed_at=now,
                                         expires_at=now + timedelta(seconds=max(0, claims["exp"] - now.timestamp())))
        except IntegrityError:
            raise SsoTokenReplayed() from None
        token = customer_session_start(customer=customer, sso_sid=_sid(claims))
        publish(CustomerSignedIn(actor=Actor("customer", customer.id, customer.display_name),
                                 customer_id=customer.id, method=SsoSignIn.Kind.APP))
    return customer, token


def sso_backchannel_logout(*, logout_token) -> int:
    """The customer signed out at the bank, and its provider tells us so server to server
    (OpenID Connect Back-Channel Logout 1.0): end the sign-ins it names (web or app), by the
    provider's session id (`sid`), or all of the subject's when it names only them. Their
    sockets close at once; the logout is audited. A token is taken once. Returns how many
    sign-ins ended."""
    oidc.customers.require_enabled()
    config = _config()
    claims = oidc.customers.verify_logout_token(logout_token,
                                                audiences=[config["CLIENT_ID"], *config["MOBILE_CLIENT_IDS"]])
    if not ratelimit.first_use(f"logout-jti:{token_digest(str(claims['jti']))}",
                               config["LOGOUT_TOKEN_MAX_AGE_SECONDS"] + config["CLOCK_SKEW_SECONDS"]):
        raise oidc.SsoRefused()  # a replay
    sessions = CustomerSession.objects.filter(
        expires_at__gt=timezone.now(), customer__is_authenticated=True, customer__sso_issuer=claims["iss"])
    if isinstance(claims.get("sub"), str):
        sessions = sessions.filter(customer__sso_subject=claims["sub"])
    if isinstance(claims.get("sid"), str):
        sessions = sessions.filter(sso_sid=claims["sid"])
    with transaction.atomic():
        ended = customer_sessions_end(sessions)
        for session in ended:
            publish(CustomerSignedOutAtBank(actor=Actor("system", name="bank sign-out"),
                                            customer_id=session.customer_id))
    return len(ended)


def _sid(claims: dict) -> str:
    """The provider's session id, as a back-channel logout will name it (whole, or none)."""
    sid = claims.get("sid")
    return sid if isinstance(sid, str) and len(sid) <= 200 else ""


def _customer_of(claims: dict) -> Customer:
    """The authenticated customer these claims name: keyed on issuer + subject, never on
    e-mail; created on first sign-in; name and mapped claims refreshed every time."""
    issuer, subject = claims["iss"], claims["sub"]
    values = {"name": _name(claims), "claims": _mapped(claims)}
    for _attempt in range(2):  # two first sign-ins at once: the second finds the first's row
        customer = (Customer.objects.select_for_update()
                    .filter(is_authenticated=True, sso_issuer=issuer, sso_subject=subject).first())
        if customer is not None:
            changed = [name for name, value in values.items() if getattr(customer, name) != value]
            for name in changed:
                setattr(customer, name, values[name])
            if changed:
                customer.save(update_fields=changed)
            return customer
        try:
            with transaction.atomic():
                return Customer.objects.create(is_authenticated=True, sso_issuer=issuer, sso_subject=subject,
                                               last_seen_at=timezone.now(), **values)
        except IntegrityError:
            continue
    raise oidc.SsoUnavailable()


def _name(claims: dict) -> str:
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get(key) for key in ("given_name", "family_name")]
        name = " ".join(part for part in parts if isinstance(part, str) and part.strip())
    return name.strip()[:200]


def _mapped(claims: dict) -> dict:
    """The claims the bank chose to show agents (the claim mapping), as text, in its order."""
    return {row.claim: {"label": row.label, "value": str(claims[row.claim])[:200]}
            for row in ClaimMapping.objects.all() if isinstance(claims.get(row.claim), (str, int, float))}


CLAIM_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
# Claims that are the sign-in's own machinery, not facts about the customer.
PROTOCOL_CLAIMS = {"iss", "sub", "aud", "exp", "iat", "nbf", "nonce", "azp", "at_hash", "c_hash", "sid", "auth_time",
                   "acr", "amr", "jti"}


def claim_mapping() -> list[tuple[str, str]]:
    return [(row.claim, row.label) for row in ClaimMapping.objects.all()]


def claim_mapping_set(*, principal, claims) -> list[tuple[str, str]]:
    """Replace the claim mapping (administrators): [{"claim", "label"}, ...] in the order
    agents see them; [] keeps no claims beyond the name. Applies from each customer's next
    sign-in."""
    require_administrator(principal)
    if not isinstance(claims, list) or len(claims) > 20:
        raise InvalidInput(_("claims is a list of up to 20 {claim, label} pairs."), code="claims_invalid")
    pairs, seen = [], set()
    for item in claims:
        claim, label = (item.get("claim"), item.get("label")) if isinstance(item, dict) else (None, None)
        if not isinstance(claim, str) or not CLAIM_NAME.fullmatch(claim) or claim in PROTOCOL_CLAIMS or claim in seen:
            raise InvalidInput(_("Not a claim to show: %(claim)s.") % {"claim": str(claim)[:64]}, code="claims_invalid")
        if not isinstance(label, str) or not 0 < len(label.strip()) <= 64:
            raise InvalidInput(_("Each claim needs a label of 1 to 64 characters."), code="claims_invalid")
        seen.add(claim)
        pairs.append((claim, label.strip()))
    with transaction.atomic():
        previous = tuple((row.claim, row.label) for row in ClaimMapping.objects.select_for_update())
        ClaimMapping.objects.all().delete()
        ClaimMapping.objects.bulk_create(ClaimMapping(claim=claim, label=label, position=position)
                                         for position, (claim, label) in enumerate(pairs))
        publish(ClaimMappingChanged(actor=Actor.of(principal), claims=tuple(pairs), previous=previous))
    return pairs
