"""Technical accounts: integrations' API tokens (docs/adr/0014). Administrators create,
rotate and revoke them; each has an owner, scopes and an expiry; the secret is shown once
and kept only as a digest; every change and every use is audited."""
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchline.core import ratelimit
from branchline.core.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from branchline.events import Actor, publish

from ..events import ApiTokenCreated, ApiTokenRefused, ApiTokenRevoked, ApiTokenRotated, ApiTokenUsed
from ..models import ApiToken, User, token_digest
from ..permissions import require_administrator

# What a token may be allowed to do; each API operation for integrations names the one it needs.
SCOPES = {
    # The audit trail is one chain for the whole bank: this scope reads all of it.
    "audit:read": gettext_lazy("Read the whole bank's audit trail (export to a SIEM)"),
}
PREFIX = "blt_"  # recognisable by secret scanners
MAX_DAYS = 365
MAX_GRACE_HOURS = 72


class TokenScopeMissing(Forbidden):
    code = "scope_missing"
    default_message = gettext_lazy("This token does not have the scope this call needs.")


def _clean_scopes(scopes) -> list[str]:
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise InvalidInput(_("scopes is a non-empty list of scope names."), code="scopes_invalid")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise InvalidInput(_("Unknown scopes: %(scopes)s.") % {"scopes": ", ".join(unknown)}, code="scopes_invalid")
    return sorted(set(scopes))


def _whole(value, name: str, low: int, high: int, code: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(_("%(name)s is a whole number from %(low)s to %(high)s.") % {
            "name": name, "low": low, "high": high}, code=code)
    return value


def _require_line(principal) -> None:
    """Technical accounts belong to a line of business: an administrator without one
    manages none (as staff without one see no conversations)."""
    require_administrator(principal)
    if principal.line_of_business_id is None:
        raise Forbidden(_("Technical accounts are managed by the administrators of a line of business."),
                        code="line_of_business_required")


def _owner(principal, owner_id) -> User:
    """The token's owner: the administrator, or a member of staff of their line of business."""
    if owner_id is None:
        return User.objects.get(pk=principal.id)
    owner = User.objects.filter(pk=owner_id, is_active=True,
                                line_of_business_id=principal.line_of_business_id).first()
    if owner is None:
        raise NotFound(_("No such member of staff in your line of business."), code="owner_not_found")
    return owner


def _mine(principal):
    """The tokens an administrator manages: those of their line of business."""
    _require_line(principal)
    return ApiToken.objects.select_related("owner").filter(line_of_business_id=principal.line_of_business_id)


def _issue(**fields) -> tuple[ApiToken, str]:
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(token_hash=token_digest(secret), prefix=secret[:len(PREFIX) + 8], **fields)
    return token, secret


def _facts(token: ApiToken) -> dict:
    return {"api_token_id": token.id, "token_name": token.name, "owner_id": token.owner_id,
            "scopes": tuple(token.scopes)}


def api_tokens(*, principal) -> list[ApiToken]:
    return list(_mine(principal).order_by("-created_at", "-id"))


def api_token_create(*, principal, name, scopes, expires_in_days=90, owner_id=None) -> tuple[ApiToken, str]:
    """A new token; returns it and its secret (shown this once)."""
    _require_line(principal)
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 100:
        raise InvalidInput(_("name is 1 to 100 characters."), code="name_invalid")
    scopes, days = _clean_scopes(scopes), _whole(expires_in_days, "expires_in_days", 1, MAX_DAYS, "expiry_invalid")
    with transaction.atomic():
        token, secret = _issue(name=name.strip(), owner=_owner(principal, owner_id), scopes=scopes,
                               line_of_business_id=principal.line_of_business_id,
                               created_by=principal.display_name, expires_at=timezone.now() + timedelta(days=days))
        publish(ApiTokenCreated(actor=Actor.of(principal), expires_at=token.expires_at.isoformat(), **_facts(token)))
    return token, secret


def api_token_rotate(*, principal, token_id, grace_hours=0) -> tuple[ApiToken, str]:
    """A new secret for the same account (name, owner, scopes, lifetime); the old one
    stops now, or after `grace_hours` (at most 72) while the integration switches over."""
    _require_line(principal)
    _whole(grace_hours, "grace_hours", 0, MAX_GRACE_HOURS, "grace_invalid")
    now = timezone.now()
    with transaction.atomic():
        old = _mine(principal).select_for_update(of=("self",)).filter(pk=token_id).first()
        if old is None:
            raise NotFound(code="api_token_not_found")
        if not old.is_valid(now) or hasattr(old, "rotated_to"):
            raise InvalidInput(_("Only a token in use can be rotated."), code="api_token_not_active")
        lifetime = old.expires_at - old.created_at
        token, secret = _issue(name=old.name, owner=old.owner, scopes=old.scopes, created_by=principal.display_name,
                               line_of_business_id=old.line_of_business_id, expires_at=now + lifetime,
                               rotated_from=old)
        old.expires_at = min(old.expires_at, now + timedelta(hours=grace_hours))
        old.save(update_fields=["expires_at"])
        publish(ApiTokenRotated(actor=Actor.of(principal), replaced_id=old.id,
                                old_expires_at=old.expires_at.isoformat(), **_facts(token)))
    return token, secret


def api_token_revoke(*, principal, token_id) -> ApiToken:
    _require_line(principal)
    with transaction.atomic():
        token = _mine(principal).select_for_update(of=("self",)).filter(pk=token_id).first()
        if token is None:
            raise NotFound(code="api_token_not_found")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            publish(ApiTokenRevoked(actor=Actor.of(principal), **_facts(token)))
    return token


def api_token_use(*, secret, scope: str, method: str, path: str, address: str) -> ApiToken:
    """The token a request presents, if valid and allowed `scope`; the use is recorded
    (last use, and an audit record) in the same step. Unauthorized or TokenScopeMissing.
    A known token refused (revoked, expired, rotated out, its owner gone, without the
    scope) is audited too, at most once a minute per token and reason."""
    if not isinstance(secret, str) or not secret.startswith(PREFIX) or len(secret) > 200:
        raise Unauthorized()
    now = timezone.now()
    with transaction.atomic():
        token = (ApiToken.objects.select_for_update(of=("self",)).select_related("owner")
                 .filter(token_hash=token_digest(secret)).first())
        if token is None:
            raise Unauthorized()
        # A token answers for its owner: it stops when they leave (their account deactivated).
        reason = ("not_in_force" if not token.is_valid(now) or not token.owner.is_active
                  else "scope_missing" if scope not in token.scopes else None)
        if reason is None:
            token.last_used_at = now
            token.save(update_fields=["last_used_at"])
            publish(ApiTokenUsed(actor=Actor("integration", token.id, token.name, address), api_token_id=token.id,
                                 method=method, path=path[:200]))
            return token
        if ratelimit.within(f"token-refused:{token.id}:{reason}", 60):
            publish(ApiTokenRefused(actor=Actor("integration", token.id, token.name, address), api_token_id=token.id,
                                    method=method, path=path[:200], reason=reason))
    raise TokenScopeMissing() if reason == "scope_missing" else Unauthorized()
