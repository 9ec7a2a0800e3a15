"""Staff sign-ins: Django's database sessions and ModelBackend, with the two reads every
staff request makes (its session, then its user) as one plain SQL statement (core/sql.py):
the session row (models.WebSession) names its user in a column, joined in the same read.
Through the ORM the two reads cost about a millisecond of a console request's CPU, and as two
statements a second round trip to the database (bench/README.md).

A staff session ends after STAFF_IDLE_MINUTES without activity, and at the latest
SESSION_COOKIE_AGE after signing in: its expiry in the database is pushed forward by activity
(a console request, or a frame the member of staff sent on a socket, not the automatic pings)
at most once a minute, so activity costs one session write a minute, not one per request.
The sockets of an expired session close at the next sign-in re-check (SIGN_IN_RECHECK_SECONDS).

Settings: SESSION_ENGINE = "branchline.accounts.staff_sessions",
AUTHENTICATION_BACKENDS = ["branchline.accounts.staff_sessions.StaffBackend"], and
AuthenticationMiddleware below in place of Django's."""
import time
from contextvars import ContextVar

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.sessions.backends import db
from django.db import connection
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from branchline.core import sql

from .models import User, WebSession

_SESSION = sql.Columns(WebSession, ("session_key", "session_data", "expire_date"), "s")
_USER = sql.Columns(User, tuple(f.name for f in User._meta.concrete_fields), "u")


def _session_sql() -> str:
    return (f"SELECT {_SESSION.sql()}, {_USER.sql()} FROM {sql.table(WebSession)} s "
            f"LEFT JOIN {sql.table(User)} u ON {sql.column(User, 'id', 'u')} = {sql.column(WebSession, 'user', 's')} "
            f"WHERE {sql.column(WebSession, 'session_key', 's')} = %s "
            f"AND {sql.column(WebSession, 'expire_date', 's')} > %s")


def _user_sql() -> str:
    return f"SELECT {_USER.sql()} FROM {sql.table(User)} u WHERE {sql.column(User, 'id', 'u')} = %s"


class SessionStore(db.SessionStore):
    @classmethod
    def get_model_class(cls):
        return WebSession

    def create_model_instance(self, data):
        return _naming_user(super().create_model_instance(data), data)

    async def acreate_model_instance(self, data):
        return _naming_user(await super().acreate_model_instance(data), data)

    def _get_session_from_db(self):
        found = sql.fetch(("staff_session",), _session_sql,
                          [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())])
        self._user = None
        if not found:
            self._session_key = None  # as Django's: an unknown or expired key starts a new session
            return None
        start = len(_SESSION.names)
        if found[0][start] is not None:  # the session names a user who exists
            self._user = _USER.instance(found[0], start)
        return _SESSION.instance(found[0])

    def user_read_with(self, user_id) -> User | None:
        """The user this session named when it was read, if it is `user_id`; given once,
        for the read that fetched it (a later look at the same store reads the user anew)."""
        user, self._user = getattr(self, "_user", None), None
        return user if user is not None and str(user.pk) == str(user_id) else None


def _naming_user(session: WebSession, data: dict) -> WebSession:
    """The row names the user its data signs in (login() stores the id as text)."""
    user_id = str(data.get(SESSION_KEY, ""))
    session.user_id = int(user_id) if user_id.isdecimal() and user_id.isascii() else None
    return session


# The session whose user auth.get_user is reading, for StaffBackend.get_user: set only for
# the length of that one call (signed_in_user), so a user read with one request's session is
# never handed to another.
_reading: ContextVar[SessionStore | None] = ContextVar("staff_session_reading", default=None)


def signed_in_user(request):
    """django.contrib.auth.get_user(request), the user read in the session's own statement."""
    token = _reading.set(request.session if isinstance(request.session, SessionStore) else None)
    try:
        return auth.get_user(request)
    finally:
        _reading.reset(token)


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: signed_in_user(request))


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
        session = _reading.get()
        user = session.user_read_with(user_id) if session is not None else None
        if user is None:
            found = sql.fetch(("staff_user",), _user_sql, [user_id])
            user = _USER.instance(found[0]) if found else None
        return user if user is not None and self.user_can_authenticate(user) else None


SIGNED_IN_AT, ACTIVE_AT = "branchline_signed_in_at", "branchline_active_at"
TOUCH_EVERY_SECONDS = 60


def signed_in(session) -> None:
    """At sign-in: the absolute limit starts, and the idle one."""
    session[SIGNED_IN_AT] = time.time()
    _extend(session, time.time())


def touch(session) -> bool:
    """Activity: push the idle deadline forward, at most once a minute. True if the session
    changed (and must be saved)."""
    now = time.time()
    if session.get(SESSION_KEY) is None or now - session.get(ACTIVE_AT, 0) < TOUCH_EVERY_SECONDS:
        return False
    _extend(session, now)
    return True


def _extend(session, now: float) -> None:
    idle = settings.BRANCHLINE["STAFF_IDLE_MINUTES"] * 60
    left = session.get(SIGNED_IN_AT, now) + settings.SESSION_COOKIE_AGE - now
    session[ACTIVE_AT] = now
    session.set_expiry(max(1, int(min(idle, left))))


class StaffActivityMiddleware:
    """After authentication: a signed-in staff request is activity."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.session_key and not session.is_empty():
            touch(session)  # SessionMiddleware saves it if it changed
        return response
