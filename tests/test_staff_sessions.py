"""accounts/staff_sessions.py: staff sessions and users read in plain SQL behave as
Django's own: a valid session signs its user in; an expired, unknown, signed-out or
deactivated one does not."""
import json
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from branchline.accounts.models import User
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
