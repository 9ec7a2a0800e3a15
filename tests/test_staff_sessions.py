"""accounts/staff_sessions.py: staff sessions and users read in plain SQL behave as
Django's own: a valid session signs its user in; an expired, unknown, signed-out or
deactivated one does not."""
import json
import time
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from branchline.accounts.actions import staff_session_activity
from branchline.accounts.models import User, WebSession
from branchline.accounts.staff_sessions import ACTIVE_AT, SIGNED_IN_AT, SessionStore
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _signed_in(world) -> Client:
    client = Client()
    response = client.post("/api/staff/session", json.dumps({"username": world.agent.username, "password": PASSWORD}),
                           content_type="application/json")
    assert response.status_code == 200
    return client


def _me(client) -> int:
    return client.get("/api/staff/conversations").status_code


def test_a_valid_session_signs_its_user_in(world):
    client = _signed_in(world)
    assert _me(client) == 200
    assert _me(Client()) == 401


def test_an_expired_session_is_refused(world):
    client = _signed_in(world)
    WebSession.objects.filter(session_key=client.cookies["sessionid"].value).update(
        expire_date=timezone.now() - timedelta(seconds=1))
    assert _me(client) == 401


def test_a_signed_out_session_is_refused(world):
    client = _signed_in(world)
    key = client.cookies["sessionid"].value
    other = Client()
    other.cookies["sessionid"] = key
    assert _me(other) == 200
    WebSession.objects.filter(session_key=key).delete()
    assert _me(other) == 401


def test_a_deactivated_user_is_refused(world):
    client = _signed_in(world)
    User.objects.filter(pk=world.agent.pk).update(is_active=False)
    assert _me(client) == 401


def test_a_changed_password_ends_the_other_sessions(world):
    client = _signed_in(world)
    user = User.objects.get(pk=world.agent.pk)
    user.set_password("another-password-entirely")
    User.objects.filter(pk=user.pk).update(password=user.password)
    assert _me(client) == 401


# --- the session and its user, read together ------------------------------------------------

def test_a_request_reads_its_session_and_user_in_one_statement(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _signed_in(world)
    assert _stored(client).user_id == world.agent.id
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/staff/cases").status_code == 200
    reads = [q["sql"] for q in queries if "accounts_user" in q["sql"] or "accounts_websession" in q["sql"]]
    assert len(reads) == 1 and "accounts_websession" in reads[0] and "JOIN" in reads[0], reads


def test_the_user_read_with_one_session_is_not_given_for_another(world):
    from django.http import HttpRequest

    from branchline.accounts.staff_sessions import StaffBackend, signed_in_user

    client = _signed_in(world)
    request = HttpRequest()
    request.session = SessionStore(client.cookies["sessionid"].value)
    assert signed_in_user(request).pk == world.agent.pk
    User.objects.filter(pk=world.agent.pk).update(is_active=False)
    assert StaffBackend().get_user(world.agent.pk) is None  # read anew, outside that session's read
    assert not signed_in_user(request).is_authenticated  # the same store, read again: refused


def test_a_session_row_without_its_user_column_still_signs_in(world):
    client = _signed_in(world)
    WebSession.objects.filter(session_key=client.cookies["sessionid"].value).update(user=None)
    assert _me(client) == 200  # the user named in the session's data, read on its own


def test_a_session_naming_a_user_who_is_gone_still_saves():
    store = SessionStore()
    store[SESSION_KEY] = str(10**9)
    store.save()  # no foreign key refuses it: that browser's requests go on (signed out)
    assert WebSession.objects.get(pk=store.session_key).user_id == 10**9
    browser = Client()
    browser.cookies["sessionid"] = store.session_key
    assert _me(browser) == 401


def test_deleting_a_user_ends_their_sessions(world):
    from tests import factories

    leaver = factories.staff(world.lob, serving=False)
    client = Client()
    assert client.post("/api/staff/session", json.dumps({"username": leaver.username, "password": PASSWORD}),
                       content_type="application/json").status_code == 200
    assert WebSession.objects.filter(user=leaver).count() == 1
    leaver.delete()
    assert not WebSession.objects.filter(session_key=client.cookies["sessionid"].value).exists()
    assert _me(client) == 401


def test_the_upgrade_keeps_live_sessions_signed_in(world):
    """Migration 0012 moves live sessions from django.contrib.sessions' table, and back."""
    import importlib

    from django.apps import apps
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore as DjangoStore

    module = importlib.import_module("branchline.accounts.migrations.0012_web_sessions")
    stores = {}
    for name, user_id, expires in (("live", world.agent.pk, 600), ("stale", world.agent.pk, -600),
                                   ("nobody", 10**9, 600), ("guest", None, 600)):
        store = DjangoStore()
        if user_id is not None:  # as django.contrib.auth.login stores a sign-in
            store.update({"_auth_user_id": str(user_id), "_auth_user_backend": settings.AUTHENTICATION_BACKENDS[0],
                          "_auth_user_hash": world.agent.get_session_auth_hash()})
        store.set_expiry(expires)
        store.save()
        stores[name] = store.session_key
    WebSession.objects.all().delete()
    module.move_live_sessions(apps, None)
    copied = dict(WebSession.objects.values_list("session_key", "user_id"))
    assert copied == {stores["live"]: world.agent.pk, stores["nobody"]: None, stores["guest"]: None}
    assert WebSession.objects.get(pk=stores["live"]).get_decoded()["_auth_user_id"] == str(world.agent.pk)
    assert not DjangoStore.get_model_class().objects.exists()  # nothing left behind in the old table
    module.move_sessions_back(apps, None)  # a rollback finds them where it looks
    assert set(DjangoStore.get_model_class().objects.values_list("pk", flat=True)) == set(copied)
    other = Client()
    other.cookies["sessionid"] = stores["live"]
    assert _me(other) == 200  # still signed in, now through the new table


# --- idle timeout ---------------------------------------------------------------------------

def _stored(client):
    return WebSession.objects.get(session_key=client.cookies["sessionid"].value)


def test_a_session_idles_out_after_the_configured_time(world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "STAFF_IDLE_MINUTES": 15}
    client = _signed_in(world)
    left = (_stored(client).expire_date - timezone.now()).total_seconds()
    assert 14 * 60 < left <= 15 * 60
    WebSession.objects.filter(pk=_stored(client).pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert _me(client) == 401


def test_activity_pushes_the_deadline_at_most_once_a_minute(world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "STAFF_IDLE_MINUTES": 15}
    client = _signed_in(world)
    soon = timezone.now() + timedelta(minutes=2)
    WebSession.objects.filter(pk=_stored(client).pk).update(expire_date=soon)
    assert _me(client) == 200
    assert _stored(client).expire_date == soon  # active a moment ago: no write
    _age_activity(client, seconds=61)
    assert _me(client) == 200
    assert (_stored(client).expire_date - timezone.now()).total_seconds() > 14 * 60


def test_activity_never_outlasts_the_working_day(world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "STAFF_IDLE_MINUTES": 30}
    client = _signed_in(world)
    _age_activity(client, seconds=61, signed_in_ago=settings.SESSION_COOKIE_AGE - 300)
    assert _me(client) == 200
    assert (_stored(client).expire_date - timezone.now()).total_seconds() <= 300


def test_socket_frames_from_staff_count_as_activity(world, settings):
    client = _signed_in(world)
    key = client.cookies["sessionid"].value
    soon = timezone.now() + timedelta(minutes=2)
    WebSession.objects.filter(pk=key).update(expire_date=soon)
    _age_activity(client, seconds=61)
    staff_session_activity(key)
    assert (_stored(client).expire_date - soon).total_seconds() > 60
    WebSession.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    staff_session_activity(key)  # an idled-out session is not brought back
    assert _me(client) == 401


def _age_activity(client, *, seconds: int, signed_in_ago: int | None = None):
    store = SessionStore(client.cookies["sessionid"].value)
    store[ACTIVE_AT] -= seconds
    if signed_in_ago is not None:
        store[SIGNED_IN_AT] = time.time() - signed_in_ago
    store.save()
