"""Signing out publishes one `session.ended` event, after commit, to that principal's own
audience, naming the sign-in by digest (the gateway closes only its sockets: test_socket.py)."""
import pytest
from django.test import Client

from branchline.accounts.actions import customer_session_end
from branchline.accounts.models import CustomerSession, token_digest
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_customer_sign_out_names_the_ended_token_once(capture_events):
    customer, token = factories.customer_with_token()
    with capture_events() as events:
        customer_session_end(token=token)
    assert events == [{"t": "session.ended", "a": [f"customer:{customer.id}"], "c": None, "s": None,
                       "d": {"session": token_digest(token)}}]
    assert CustomerSession.objects.get(token_hash=token_digest(token)).revoked_at is not None
    with capture_events() as again:
        customer_session_end(token=token)  # already revoked: nothing changes, nothing is published
        customer_session_end(token="never-issued")
    assert again == []


def test_a_staff_sign_out_names_the_ended_session_once(world, capture_events):
    client = Client()
    client.force_login(world.agent)
    session_key = client.cookies["sessionid"].value
    with capture_events() as events:
        assert client.delete("/api/staff/session").status_code == 204
    assert events == [{"t": "session.ended", "a": [f"staff:{world.agent.id}"], "c": None, "s": None,
                       "d": {"session": token_digest(session_key)}}]
    with capture_events() as again:
        assert client.delete("/api/staff/session").status_code == 401
    assert again == []
