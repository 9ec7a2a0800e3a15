"""accounts/staff_sessions.py: staff sessions and users read in plain SQL behave as
Django's own: a valid session signs its user in; an expired, unknown, signed-out or
deactivated one does not."""
import json
import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from branchline.accounts.actions import staff_session_activity
from branchline.accounts.models import User
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
    Session.objects.filter(session_key=client.cookies["sessionid"].value).update(
        expire_date=timezone.now() - timedelta(seconds=1))
    assert _me(client) == 401


def test_a_signed_out_session_is_refused(world):
    client = _signed_in(world)
    key = client.cookies["sessionid"].value
    other = Client()
    other.cookies["sessionid"] = key
    assert _me(other) == 200
    Session.objects.filter(session_key=key).delete()
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


# --- idle timeout ---------------------------------------------------------------------------

def _stored(client):
    return Session.objects.get(session_key=client.cookies["sessionid"].value)


def test_a_session_idles_out_after_the_configured_time(world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "STAFF_IDLE_MINUTES": 15}
    client = _signed_in(world)
    left = (_stored(client).expire_date - timezone.now()).total_seconds()
    assert 14 * 60 < left <= 15 * 60
    Session.objects.filter(pk=_stored(client).pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert _me(client) == 401


def test_activity_pushes_the_deadline_at_most_once_a_minute(world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "STAFF_IDLE_MINUTES": 15}
    client = _signed_in(world)
    soon = timezone.now() + timedelta(minutes=2)
    Session.objects.filter(pk=_stored(client).pk).update(expire_date=soon)
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
    Session.objects.filter(pk=key).update(expire_date=soon)
    _age_activity(client, seconds=61)
    staff_session_activity(key)
    assert (_stored(client).expire_date - soon).total_seconds() > 60
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    staff_session_activity(key)  # an idled-out session is not brought back
    assert _me(client) == 401


def _age_activity(client, *, seconds: int, signed_in_ago: int | None = None):
    store = SessionStore(client.cookies["sessionid"].value)
    store[ACTIVE_AT] -= seconds
    if signed_in_ago is not None:
        store[SIGNED_IN_AT] = time.time() - signed_in_ago
    store.save()
