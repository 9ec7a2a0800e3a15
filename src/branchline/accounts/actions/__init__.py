"""Customer sign-in sessions (bearer tokens) and staff sign-in checks."""
import logging
import secrets
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from branchline.contacts.models import Customer
from branchline.core import ratelimit, sql
from branchline.core.errors import InvalidInput, Unauthorized
from branchline.core.http import client_address
from branchline.events import Actor, publish

from .. import allow_lists, staff_sessions
from ..events import AccessRefused, AllowListChanged, SessionEnded
from ..models import CustomerSession, IpAllowList, SsoSignIn, WebSession, token_digest
from ..permissions import require_administrator
from .budgets import sign_in_budgets
from .second_factor import pending_start, second_factor_step

log = logging.getLogger(__name__)

DEMO_SSO_ISSUER = "demo-sso"


def demo_customers_issuer() -> str:
    """Whose customers the demo seeds: the demo's OpenID provider when `make demo` runs one
    (so signing in there finds their history), else the stand-in's."""
    return settings.CUSTOMER_OIDC["ISSUER"] or DEMO_SSO_ISSUER


def customer_session_start(*, customer: Customer, sso_sid: str = "") -> str:
    """Issue a bearer token for `customer`; only its digest is stored. A sign-in through
    the bank's provider keeps its session id there (actions/sso.py)."""
    token = secrets.token_urlsafe(32)
    hours = settings.BRANCHLINE["CUSTOMER_TOKEN_HOURS"]
    CustomerSession.objects.create(
        customer=customer, token_hash=token_digest(token), expires_at=timezone.now() + timedelta(hours=hours),
        sso_sid=sso_sid,
    )
    return token


def customer_session_anonymous() -> tuple[Customer, str]:
    with transaction.atomic():
        customer = Customer.objects.create(is_authenticated=False, last_seen_at=timezone.now())
        return customer, customer_session_start(customer=customer)


def customer_sessions_end(sessions) -> list[CustomerSession]:
    """End these sign-ins (a CustomerSession queryset; those already ended are left as
    they are). After commit, the sockets signed in with each close at once on every server
    process (4401); the customer's other sign-ins stay open. Returns the sessions ended."""
    now, ended = timezone.now(), []
    with transaction.atomic():
        for session in sessions.select_for_update().filter(revoked_at=None):
            session.revoked_at = now
            session.save(update_fields=["revoked_at"])
            publish(SessionEnded(actor=Actor("customer", session.customer_id), principal_kind="customer",
                                 principal_id=session.customer_id, session=session.token_hash))
            ended.append(session)
    return ended


def customer_session_end(*, token: str) -> None:
    """Revoke the token (unknown or already revoked: nothing changes, nothing is published)."""
    customer_sessions_end(CustomerSession.objects.filter(token_hash=token_digest(token)))


def customer_sessions_end_all(*, customer_id: int) -> None:
    """Revoke every open sign-in of a customer. A guest who signed in with the bank is done
    as a guest."""
    customer_sessions_end(CustomerSession.objects.filter(customer_id=customer_id))


PURGE_BATCH = 1000  # rows per purge: a short statement each time, never a long lock


def sign_ins_purge(*, now=None) -> int:
    """Forget sign-in bookkeeping that can no longer matter (run by every server process's
    heartbeat; idempotent): bank sign-ins a day after they expired (an app token's row
    guards against its replay until then), customer sessions CUSTOMER_SESSIONS_KEPT_DAYS
    after they ended, browser (staff) sessions once they expired. Returns the rows deleted."""
    now = now or timezone.now()
    kept = timedelta(days=settings.BRANCHLINE["CUSTOMER_SESSIONS_KEPT_DAYS"])
    deleted = 0
    for model, ended in ((SsoSignIn, Q(expires_at__lt=now - timedelta(days=1))),
                         (CustomerSession, Q(expires_at__lt=now - kept) | Q(revoked_at__lt=now - kept)),
                         (WebSession, Q(expire_date__lt=now))):
        ids = list(model.objects.filter(ended).values_list("pk", flat=True)[:PURGE_BATCH])
        if ids:
            deleted += model.objects.filter(pk__in=ids).delete()[0]
    return deleted


def customer_for_token(token: str | None) -> Customer:
    """The customer a bearer token signs in, or Unauthorized (missing, unknown, expired)."""
    if not token or len(token) > 200:
        raise Unauthorized()
    found = sql.fetch(("customer_for_token",), _token_sql, [token_digest(token)])
    if not found or not CustomerSession(**_SESSION.values(found[0])).is_valid():
        raise Unauthorized()
    return _CUSTOMER.instance(found[0], len(_SESSION.names))


# Asked on every customer request and socket: in plain SQL (core/sql.py). The customer comes
# with what a Principal reads (id, name, whether signed in); other fields load on first use.
_SESSION = sql.Columns(CustomerSession, ("expires_at", "revoked_at"), "s")
_CUSTOMER = sql.Columns(Customer, ("id", "is_authenticated", "name"), "c")


def _token_sql() -> str:
    customer_id = sql.column(CustomerSession, "customer_id", "s")
    return (f"SELECT {_SESSION.sql()}, {_CUSTOMER.sql()} FROM {sql.table(CustomerSession)} s "
            f"JOIN {sql.table(Customer)} c ON c.{sql.column(Customer, 'id')} = {customer_id} "
            f"WHERE {sql.column(CustomerSession, 'token_hash', 's')} = %s")


def staff_sign_in(request, *, username: str, password: str) -> tuple:
    """Sign a member of staff in on this request's session (console page and API). Returns
    (user, None) once signed in, or (user, "second_factor" | "enrol") when the password was
    right and the second factor comes next (actions/second_factor.py).

    Failed attempts are budgeted per account (from anywhere: rotating addresses does not
    help a guesser) and per address (one address spraying many accounts); a correct
    password is refused too while either budget is spent. The address is the client's as
    core/http.py resolves it: X-Forwarded-For counts only from a trusted proxy."""
    budgets = sign_in_budgets(client_address(request), username)
    for budget in budgets:
        ratelimit.check(**budget, message=_("Too many failed sign-ins. Wait a few minutes and try again."))
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        for budget in budgets:
            ratelimit.hit(**budget)
        raise Unauthorized(_("The username or password is not right."), code="bad_credentials")
    next_step = second_factor_step(user)
    if next_step:  # signed in only once the second factor is right
        pending_start(request, user)
        return user, next_step
    login(request, user)
    staff_sessions.signed_in(request.session)
    return user, None


def staff_session_activity(session_key: str) -> None:
    """A member of staff did something on a socket: their session's idle deadline moves
    (at most once a minute; accounts/staff_sessions.py)."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if staff_sessions.touch(session):
        session.save()


def staff_sign_out(request) -> None:
    """End this request's staff session. After commit, the sockets opened with it close at
    once on every server process (4401); the same person's other sessions stay open."""
    user, session_key = request.user, request.session.session_key
    with transaction.atomic():
        logout(request)
        if user.is_authenticated and session_key:
            publish(SessionEnded(actor=Actor("staff", user.id, user.display_name), principal_kind="staff",
                                 principal_id=user.id, session=token_digest(session_key)))


# --- IP allow-lists ------------------------------------------------------------------------

def ip_allow_list_set(*, principal, surface, networks) -> list[str]:
    """Set a surface's allow-list (an empty list opens it). Administrators only; a member of
    staff cannot shut out the address they are using for the console or administration.
    `principal` None is the operator's `manage.py ip_allow_list` (a way back in)."""
    if principal is not None:
        require_administrator(principal)
    try:
        surface = allow_lists.Surface(surface)
    except ValueError:
        raise InvalidInput(_("Unknown surface: use one of %(names)s.") % {
            "names": ", ".join(allow_lists.Surface)}, code="surface_invalid") from None
    if not isinstance(networks, list):
        raise InvalidInput(_("networks is a list of addresses or networks."), code="networks_invalid")
    try:
        networks = allow_lists.parse_networks(networks)
    except ValueError as error:
        raise InvalidInput(_("Not an address or network: %(value)s") % {"value": str(error)[:64]},
                           code="networks_invalid") from None
    if (principal is not None and surface in (allow_lists.Surface.CONSOLE, allow_lists.Surface.ADMIN)
            and not allow_lists.address_allowed(networks, principal.address)):
        raise InvalidInput(_("This list would shut out the address you are using (%(address)s).") % {
            "address": principal.address}, code="would_lock_you_out")
    with transaction.atomic():
        row = IpAllowList.objects.select_for_update().filter(surface=surface).first()
        previous = tuple(row.networks) if row else ()
        IpAllowList.objects.update_or_create(surface=surface, defaults={
            "networks": networks, "updated_at": timezone.now(),
            "updated_by": principal.display_name[:200] if principal else "manage.py ip_allow_list"})
        publish(AllowListChanged(actor=Actor.of(principal), surface=surface, networks=tuple(networks),
                                 previous=previous))
        transaction.on_commit(allow_lists.cache.forget)  # this process at once; the others within seconds
    return networks


def access_refused(*, surface, address: str, path: str) -> None:
    """Record a request kept out by an allow-list: once a minute per surface and address (an
    IPv6 /64 counts as one address), at most REFUSALS_RECORDED_PER_MINUTE per surface, and
    none while the shared cache is away: a flood from many addresses must not flood the
    audit trail (each record is a transaction on the chain's one lock)."""
    per_surface = settings.BRANCHLINE["REFUSALS_RECORDED_PER_MINUTE"]
    if not (ratelimit.within(f"refused:{surface}:{allow_lists.address_key(address)}", 60, while_away=False)
            and ratelimit.within(f"refused:{surface}", 60, per_surface, while_away=False)):
        return
    try:
        with transaction.atomic():
            publish(AccessRefused(actor=Actor("anonymous", None, "", address), surface=str(surface), path=path[:200]))
    except DatabaseError:  # the refusal itself stands; only its record is lost
        log.warning("a refused request from %s could not be recorded: the database is away", address)
