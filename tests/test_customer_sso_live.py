"""Signing out at the bank ends the chat session: the provider (a real one, tests/idp) calls
our back-channel logout endpoint, and the sockets of that sign-in close at once, while the
same customer's sign-in on another device stays open."""
import time

import httpx
import pytest

from branchline.accounts.models import CustomerSession
from tests.support.idp import IdentityProvider, customer_token, logout
from tests.test_customer_sso import ACCOUNTS, WEB
from tests.test_socket import Peer, _closed_as_signed_out

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def idp(live_server_session):
    url = live_server_session.url
    provider = IdentityProvider(
        clients=[{"client_id": WEB, "client_secret": "web-secret", "redirect_uris": [f"{url}/sso/callback"],
                  "post_logout_redirect_uris": [f"{url}/chat/"], "backchannel_logout_uri": f"{url}/sso/backchannel-logout"}],
        accounts=ACCOUNTS)
    with provider:
        yield provider


@pytest.fixture
def sso(idp, live, settings):
    settings.CUSTOMER_OIDC = {**settings.CUSTOMER_OIDC, "ISSUER": idp.issuer, "CLIENT_ID": WEB,
                              "CLIENT_SECRET": "web-secret", "REDIRECT_URI": f"{live.url}/sso/callback",
                              "SCOPES": "openid profile bank"}
    settings.BRANCHLINE = {**settings.BRANCHLINE, "SIGN_IN_RECHECK_SECONDS": 3600}  # no periodic re-check
    return idp


def _signed_in(live, browser: httpx.Client) -> str:
    """The whole browser flow against the running server; returns the customer's token."""
    return customer_token(browser, live.url, "jan", "jan-password")


def test_signing_out_at_the_bank_closes_that_sign_ins_sockets_at_once(sso, live):
    with httpx.Client(timeout=10) as desk, httpx.Client(timeout=10) as phone:
        desk_token, phone_token = _signed_in(live, desk), _signed_in(live, phone)
        assert CustomerSession.objects.filter(revoked_at=None).exclude(sso_sid="").count() == 2
        widget, app = Peer(live, token=desk_token), Peer(live, token=phone_token)
        assert [p.next()["type"] for p in (widget, app)] == ["ready"] * 2

        done = logout(desk, f"{sso.metadata['end_session_endpoint']}?client_id={WEB}")
        assert done.status_code in (200, 302, 303), done.text[:300]
        signed_out = time.monotonic()
        assert _closed_as_signed_out(widget, 3.0) == 4401
        assert time.monotonic() - signed_out < 3.0
        me = httpx.get(f"{live.url}/api/customer/me", headers={"Authorization": f"Bearer {desk_token}"})
        assert me.status_code == 401

        # The phone signed in at the bank separately (its own provider session): it stays.
        app.send(type="ping", ref="still-here")
        assert app.until(lambda f: f["type"] in ("pong", "error"))["type"] == "pong"
        app.close()
