"""What happens to sign-ins: the events accounts' actions publish (the public contract of
this app; subscribers are listed in branchline/subscriptions.py)."""
from dataclasses import dataclass

from branchline.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class SessionEnded(DomainEvent):
    """A customer's token or a staff session was signed out: the sockets opened with it
    close at once. `session` names the sign-in by the SHA-256 digest of the token or of the
    session key, never by the secret itself; the person's other sign-ins are not named."""

    name = "session.ended"

    principal_kind: str  # "customer" | "staff"
    principal_id: int
    session: str


@dataclass(frozen=True, kw_only=True)
class AccessRefused(DomainEvent):
    """A request or socket came from outside its surface's IP allow-list. Recorded at most
    once a minute per surface and address (a flood does not flood the audit trail)."""

    name = "access.refused"

    surface: str
    path: str


@dataclass(frozen=True, kw_only=True)
class AllowListChanged(DomainEvent):
    """An administrator (or `manage.py ip_allow_list`) set a surface's IP allow-list."""

    name = "access.allow_list_changed"

    surface: str
    networks: tuple[str, ...]
    previous: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class CustomerSignedIn(DomainEvent):
    """A customer signed in through the bank's provider: in a browser (`browser`) or by
    the mobile app's ID token (`app`)."""

    name = "customer.signed_in"
    subject_type = "customer"

    customer_id: int
    method: str


@dataclass(frozen=True, kw_only=True)
class CustomerSignedOutAtBank(DomainEvent):
    """The bank's provider said the customer signed out there (back-channel logout): one
    of their chat sign-ins ended."""

    name = "customer.signed_out_at_bank"
    subject_type = "customer"

    customer_id: int


@dataclass(frozen=True, kw_only=True)
class ApiTokenChanged(DomainEvent):
    """An administrator created, rotated or revoked a technical account's token."""

    subject_type = "api_token"

    api_token_id: int
    token_name: str
    owner_id: int
    scopes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ApiTokenCreated(ApiTokenChanged):
    name = "api_token.created"
    expires_at: str


@dataclass(frozen=True, kw_only=True)
class ApiTokenRotated(ApiTokenChanged):
    name = "api_token.rotated"
    replaced_id: int
    old_expires_at: str


@dataclass(frozen=True, kw_only=True)
class ApiTokenRevoked(ApiTokenChanged):
    name = "api_token.revoked"


@dataclass(frozen=True, kw_only=True)
class ApiTokenUsed(DomainEvent):
    """An integration called the API with its token (every use is audited)."""

    name = "api_token.used"
    subject_type = "api_token"

    api_token_id: int
    method: str
    path: str


@dataclass(frozen=True, kw_only=True)
class ClaimMappingChanged(DomainEvent):
    """An administrator changed which of the bank's claims agents see."""

    name = "access.claim_mapping_changed"

    claims: tuple[tuple[str, str], ...]
    previous: tuple[tuple[str, str], ...]


@dataclass(frozen=True, kw_only=True)
class ApiTokenRefused(ApiTokenUsed):
    """A known token was presented and refused: `not_in_force` (revoked, expired, rotated
    out, its owner deactivated) or `scope_missing`."""

    name = "api_token.refused"
    reason: str


@dataclass(frozen=True, kw_only=True)
class SecondFactorEnrolled(DomainEvent):
    """A member of staff set up their second factor (and got new recovery codes)."""

    name = "staff.second_factor_enrolled"
    subject_type = "user"

    user_id: int
    method: str


@dataclass(frozen=True, kw_only=True)
class AdministrationChanged(DomainEvent):
    """An administrator added, changed or deleted a piece of the bank's configuration in the
    administration (accounts/administration.py): a member of staff, a line of business, a
    case type, a topic, a channel. `values`: the changed fields' new values, except secrets
    (a password is named in `fields`, never shown)."""

    name = "administration.changed"

    model: str  # app_label.model_name, e.g. "accounts.user"
    object_id: int
    object_repr: str
    change: str  # "added" | "changed" | "deleted"
    fields: tuple[str, ...]
    values: dict

    @property
    def subject_type(self) -> str:  # the audit record is about the object itself
        return self.model.split(".")[1]

    @property
    def subject_id(self):
        return self.object_id


@dataclass(frozen=True, kw_only=True)
class SecondFactorReset(DomainEvent):
    """An administrator removed a member of staff's passkeys, authenticator and recovery codes
    (they lost them): that person sets up a second factor again at their next sign-in."""

    name = "staff.second_factor_reset"
    subject_type = "user"

    user_id: int
    removed: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class StaffIdentityLinked(DomainEvent):
    """A member of staff's first single sign-on linked their account to the workforce
    provider's subject (by the username claim); later sign-ins follow this link only."""

    name = "staff.sso_linked"
    subject_type = "user"

    user_id: int
    issuer: str
    subject: str
