"""A customer signs in with the bank in real chromium, against a real OpenID provider
(tests/idp): first visit asks the bank silently and stays a guest; the guest writes, then
signs in mid-chat and keeps the conversation; the next visit signs in without a form."""
import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.idp import IdentityProvider
from tests.support.servers import free_port, staff_sign_in

from .helpers import PHONE, WAIT, bubble, expect_online, open_page

pytestmark = pytest.mark.browser

CLIENT_ID, SECRET = "branchline-web", "web-secret"


@pytest.fixture
def demo_server_port():
    return free_port()


@pytest.fixture
def idp(demo_server_port):
    callback = f"http://127.0.0.1:{demo_server_port}/sso/callback"
    provider = IdentityProvider(
        clients=[{"client_id": CLIENT_ID, "client_secret": SECRET, "redirect_uris": [callback]}],
        accounts={"jan": {"password": "jan-password", "claims": {"name": "Jan Kowalski", "customer_number": "100200"}}})
    with provider:
        yield provider


@pytest.fixture
def demo_server_env(idp, demo_server_port):
    return {"BRANCHLINE_CUSTOMER_OIDC_ISSUER": idp.issuer, "BRANCHLINE_CUSTOMER_OIDC_CLIENT_ID": CLIENT_ID,
            "BRANCHLINE_CUSTOMER_OIDC_CLIENT_SECRET": SECRET,
            "BRANCHLINE_CUSTOMER_OIDC_REDIRECT_URI": f"http://127.0.0.1:{demo_server_port}/sso/callback",
            "BRANCHLINE_CUSTOMER_OIDC_SCOPES": "openid profile bank"}


def test_a_guest_signs_in_with_the_bank_mid_chat_and_keeps_the_conversation(browser, demo_server, idp, artifacts_dir):
    errors: list[str] = []
    page = open_page(browser, demo_server.url, PHONE, "customer", errors)

    # First visit: the widget asks the bank silently; not signed in there, it stays a guest.
    page.goto("/chat/")
    expect(page.locator("#welcome")).to_be_visible(timeout=WAIT)
    expect(page.locator("#sign-in-bank")).to_be_visible()
    expect(page.locator("#sign-in-error")).to_have_text("")
    assert "#" not in page.url

    page.click("#guest")
    expect(page.locator("#who")).to_have_text("Chatting as a guest", timeout=WAIT)
    expect_online(page)
    page.select_option("#topic", index=1)
    page.fill("#body", "Hello, my card is blocked")
    page.click("#send")
    expect(bubble(page, "mine", "Hello, my card is blocked")).to_have_attribute("data-state", re.compile("sent|delivered|read"))

    # An agent takes it (through the API: the console has its own tests).
    with httpx.Client(base_url=demo_server.url, timeout=10) as anna:
        assert staff_sign_in(anna, "anna", "branchline-demo").status_code == 200
        csrf = anna.cookies["csrftoken"]
        waiting = anna.get("/api/staff/conversations", params={"state": "waiting"}).json()
        conversation_id = waiting[0]["id"]
        assert anna.post(f"/api/staff/conversations/{conversation_id}/accept", headers={"X-CSRFToken": csrf}).status_code == 200

        # Mid-chat, the guest signs in with the bank: its own sign-in page, then back.
        page.click("#step-up")
        page.wait_for_url(re.compile(rf"^{re.escape(idp.issuer)}/interaction/"))
        page.screenshot(path=str(artifacts_dir / "bank-sign-in-form.png"))
        page.fill("input[name=login]", "jan")
        page.fill("input[name=password]", "jan-password")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/chat/$"), timeout=WAIT)
        expect(page.locator("#who")).to_have_text("Signed in as Jan Kowalski", timeout=WAIT)
        expect(bubble(page, "mine", "Hello, my card is blocked")).to_have_count(1)
        expect(bubble(page, "system", "Jan Kowalski signed in with the bank.")).to_have_count(1)
        expect_online(page)
        expect(page.locator("#step-up")).to_be_hidden()
        page.screenshot(path=str(artifacts_dir / "bank-signed-in-mid-chat.png"))

        # The agent sees who it is; what they write reaches the signed-in customer.
        seen = anna.get(f"/api/staff/conversations/{conversation_id}").json()
        assert seen["customer"]["name"] == "Jan Kowalski" and seen["customer"]["authenticated"]
        anna.post(f"/api/staff/conversations/{conversation_id}/messages",
                  json={"body": "Hello Jan, I can see your card now.", "client_message_id": "anna-1"},
                  headers={"X-CSRFToken": csrf})
        expect(bubble(page, "theirs", "Hello Jan, I can see your card now.")).to_have_count(1, timeout=WAIT)

    # A new tab: signed in at the bank already, the widget signs in without a form.
    later = page.context.new_page()
    later.goto(f"{demo_server.url}/chat/")
    expect(later.locator("#who")).to_have_text("Signed in as Jan Kowalski", timeout=WAIT)
    expect(bubble(later, "theirs", "Hello Jan, I can see your card now.")).to_have_count(1, timeout=WAIT)
    assert errors == []
