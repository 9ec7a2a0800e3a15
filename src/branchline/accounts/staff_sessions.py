"""Staff sign-ins: Django's database sessions and ModelBackend, with the two reads every
staff request makes (its session, then its user) in plain SQL (core/sql.py): through the
ORM they cost about a millisecond of a console request's CPU (bench/README.md).

Settings: SESSION_ENGINE = "branchline.accounts.staff_sessions",
AUTHENTICATION_BACKENDS = ["branchline.accounts.staff_sessions.StaffBackend"]."""
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
