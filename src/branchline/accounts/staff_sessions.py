"""Staff sign-ins: Django's database sessions and ModelBackend, with the two reads every
staff request makes (its session, then its user) in plain SQL (core/sql.py): through the
ORM they cost about a millisecond of a console request's CPU (bench/README.md).

A staff session ends after STAFF_IDLE_MINUTES without activity, and at the latest
SESSION_COOKIE_AGE after signing in: its expiry in the database is pushed forward by activity
(a console request, or a frame the member of staff sent on a socket, not the automatic pings)
at most once a minute, so activity costs one session write a minute, not one per request.
The sockets of an expired session close at the next sign-in re-check (SIGN_IN_RECHECK_SECONDS).

Settings: SESSION_ENGINE = "branchline.accounts.staff_sessions",
AUTHENTICATION_BACKENDS = ["branchline.accounts.staff_sessions.StaffBackend"]."""
import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from branchline.core import sql

from .models import User

_SESSION = sql.Columns(Session, ("session_key", "session_data", "expire_date"))
_USER = sql.Columns(User, tuple(f.name for f in User._meta.concrete_fields))


def _session_sql() -> str:
    return (f"SELECT {_SESSION.sql()} FROM {sql.table(Session)} WHERE {sql.column(Session, 'session_key')} = %s "
            f"AND {sql.column(Session, 'expire_date')} > %s")


def _user_sql() -> str:
    return f"SELECT {_USER.sql()} FROM {sql.table(User)} WHERE {sql.column(User, 'id')} = %s"


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        found = sql.fetch(("staff_session",), _session_sql,
                          [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())])
        if not found:
            self._session_key = None  # as Django's: an unknown or expired key starts a new session
            return None
        return _SESSION.instance(found[0])


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
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
