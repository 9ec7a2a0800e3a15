"""Staff users, their roles and lines of business, and customer sign-in sessions."""
import hashlib
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LineOfBusiness(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)

    class Meta:
        verbose_name = _("line of business")
        verbose_name_plural = _("lines of business")

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")
    AUDITOR = "auditor", _("Auditor")


class User(AbstractUser):
    """A member of the bank's staff. Customers are never Users: see contacts.Customer."""

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    line_of_business = models.ForeignKey(
        LineOfBusiness, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    max_concurrent_chats = models.PositiveSmallIntegerField(_("concurrent chats"), default=5)
    # Refreshed by the socket gateway while any staff socket of theirs is open: an agent
    # away for longer than the grace period loses waiting customers back to the queue.
    last_seen_at = models.DateTimeField(null=True, blank=True)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


def token_digest(token: str) -> str:
    # Tokens are 256-bit random values, so a plain SHA-256 is enough to make a stolen
    # database useless for impersonation (no need for a slow password hash).
    return hashlib.sha256(token.encode()).hexdigest()


class WebSession(AbstractBaseSession):
    """A browser's session (SESSION_ENGINE = accounts.staff_sessions): Django's database
    session with the signed-in member of staff's id in a column of its own, so that a
    request reads its session and its user in one statement, and a user who is deleted
    takes their sessions along."""

    # No database constraint: a session saved while its user is being deleted, or naming one
    # who is gone, must not fail every request of that browser; Django still deletes a
    # deleted user's sessions, and a row naming nobody reads no user.
    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                             db_constraint=False)

    @classmethod
    def get_session_store_class(cls):
        return import_module(settings.SESSION_ENGINE).SessionStore  # staff_sessions, which imports this module


class CustomerSession(models.Model):
    """A customer's bearer token for the JSON API and the socket (web widget or app)."""

    customer = models.ForeignKey("contacts.Customer", on_delete=models.CASCADE, related_name="sessions")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Signed in through the bank's provider: its session id there (`sid`), which a
    # back-channel logout names. (The ID token itself is not kept: it holds every claim.)
    sso_sid = models.CharField(max_length=200, blank=True, db_index=True)

    def is_valid(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


class IpAllowList(models.Model):
    """The networks a surface may be reached from (accounts/allow_lists.py). No row, or an
    empty list, leaves the surface open."""

    surface = models.CharField(max_length=16, unique=True)  # allow_lists.Surface
    networks = models.JSONField(default=list)  # normalised CIDR strings
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.CharField(max_length=200, blank=True)  # a name, copied: it outlives the user


class SsoSignIn(models.Model):
    """One customer sign-in through the bank's provider (accounts/oidc.py), from the
    authorization request to the token handed to the widget. The secrets that travel
    through browsers are stored as digests and used once: the state when the provider sends
    the browser back, the hand-over code and binding when the widget redeems it; an app's ID
    token once (no replay). The nonce and PKCE verifier never leave the server."""

    class Kind(models.TextChoices):
        BROWSER = "browser"  # authorization code flow with PKCE
        APP = "app"  # the mobile app's own ID token, exchanged

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.BROWSER)
    state_hash = models.CharField(max_length=64, unique=True)  # for an app: the ID token's digest
    # A secret the widget that started the sign-in keeps (never in a URL) and shows again to
    # redeem it: a sign-in completed in someone else's browser (login CSRF) is useless there.
    binding_hash = models.CharField(max_length=64, blank=True)
    nonce = models.CharField(max_length=64, blank=True)
    code_verifier = models.CharField(max_length=128, blank=True)
    silent = models.BooleanField(default=False)
    # The guest who started it from a chat (step-up): their conversation becomes the signed-in customer's.
    guest = models.ForeignKey("contacts.Customer", on_delete=models.CASCADE, null=True, blank=True,
                              related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    returned_at = models.DateTimeField(null=True, blank=True)  # the provider sent the browser back
    error = models.CharField(max_length=64, blank=True)  # e.g. login_required after a silent attempt
    customer = models.ForeignKey("contacts.Customer", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="+")
    sid = models.CharField(max_length=200, blank=True)
    handover_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    redeemed_at = models.DateTimeField(null=True, blank=True)


class ApiToken(models.Model):
    """A technical account: an integration's bearer token (accounts/actions/tokens.py). The
    secret is shown once and stored only as its SHA-256 digest, like customers' tokens;
    `prefix` (its first characters) names it in lists and logs. It has an owner who answers
    for it, scopes that say what it may do, and an expiry; every use is audited."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    # The line of business whose administrators manage it: the creator's, kept if the owner moves.
    line_of_business = models.ForeignKey(LineOfBusiness, on_delete=models.PROTECT, related_name="api_tokens",
                                         null=True)
    scopes = models.JSONField(default=list)
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=200, blank=True)  # a name, copied: it outlives the user
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    rotated_from = models.OneToOneField("self", on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="rotated_to")

    def is_valid(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


class ClaimMapping(models.Model):
    """Which claims of the bank's provider agents see about a signed-in customer, and under
    which label, in order (accounts/actions/sso.py). Set by administrators; every sign-in
    applies the mapping of its moment. Claims not listed are not kept."""

    claim = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=64)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class Passkey(models.Model):
    """A member of staff's passkey (WebAuthn), a second factor (accounts/actions/passkeys.py):
    the authenticator keeps the private key; we keep its credential id and public key."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="passkeys")
    credential_id = models.CharField(max_length=1400, unique=True)  # base64url, as browsers send it
    public_key = models.BinaryField()  # COSE
    sign_count = models.PositiveBigIntegerField(default=0)  # a counter that goes back betrays a clone
    transports = models.JSONField(default=list)
    aaguid = models.CharField(max_length=36, blank=True)  # the authenticator's model, when it says
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)


class StaffIdentity(models.Model):
    """A member of staff as the bank's workforce provider knows them (staff single sign-on,
    accounts/actions/staff_sso.py): its issuer and subject, linked at their first sign-in."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="identities")
    issuer = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="staff_identity_unique"),
                       models.UniqueConstraint(fields=["user", "issuer"], name="staff_identity_one_per_provider")]
