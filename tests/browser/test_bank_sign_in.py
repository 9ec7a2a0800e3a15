"""A customer signs in with the bank in real chromium, against a real OpenID provider
(tests/idp): first visit asks the bank silently and stays a guest; the guest writes, then
signs in mid-chat and keeps the conversation; the next visit signs in without a form."""
import http.server
import re
import threading

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.idp import IdentityProvider
from tests.support.servers import ServerProcess, free_port, manage, server_env, staff_sign_in

from .helpers import PHONE, WAIT, bubble, expect_online, open_page

pytestmark = pytest.mark.browser

CLIENT_ID, SECRET = "branchline-web", "web-secret"


@pytest.fixture
def demo_server_port():
    return free_port()


@pytest.fixture
def idp(demo_server_port):
    base = f"http://127.0.0.1:{demo_server_port}"
    provider = IdentityProvider(
        clients=[{"client_id": CLIENT_ID, "client_secret": SECRET, "redirect_uris": [f"{base}/sso/callback"],
                  "backchannel_logout_uri": f"{base}/sso/backchannel-logout"}],
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

    # Jan signs out at the bank (in a third tab): both chat tabs end their session at once.
    bank = page.context.new_page()
    bank.goto(f"{idp.metadata['end_session_endpoint']}?client_id={CLIENT_ID}")
    bank.click("button[value=yes]")
    for tab in (page, later):
        expect(tab.locator("#welcome")).to_be_visible(timeout=WAIT)
        expect(tab.locator("#who")).to_have_text("")
    page.screenshot(path=str(artifacts_dir / "bank-signed-out.png"))
    assert errors == []


class _BankSite:
    """The bank's own page on another origin, framing the widget (as internet banking does)."""

    def __init__(self, widget_url: str, port: int):
        page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Internet banking</title></head>'
                f'<body><h1>Internet banking</h1><iframe title="Chat" src="{widget_url}" width="400" height="700">'
                f'</iframe></body></html>').encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200 if self.path == "/" else 204)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                if self.path == "/":
                    self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bank_site_port():
    return free_port()


def test_a_widget_framed_in_the_bank_site_signs_in_through_a_pop_up(browser, idp, demo_server_port, bank_site_port,
                                                                    tmp_path, artifacts_dir):
    env = server_env(database_url=f"sqlite:///{tmp_path / 'framed.sqlite3'}",
                     **{"BRANCHLINE_CUSTOMER_OIDC_ISSUER": idp.issuer, "BRANCHLINE_CUSTOMER_OIDC_CLIENT_ID": CLIENT_ID,
                        "BRANCHLINE_CUSTOMER_OIDC_CLIENT_SECRET": SECRET,
                        "BRANCHLINE_CUSTOMER_OIDC_REDIRECT_URI": f"http://127.0.0.1:{demo_server_port}/sso/callback",
                        "BRANCHLINE_CUSTOMER_OIDC_SCOPES": "openid profile bank",
                        "BRANCHLINE_WIDGET_FRAME_ANCESTORS": f"http://127.0.0.1:{bank_site_port}"})
    for command in (("migrate", "--noinput", "-v", "0"), ("seed_demo",)):
        assert manage(*command, env=env, check=False).returncode == 0
    server = ServerProcess(env, port=demo_server_port, log_path=tmp_path / "framed.log").start()
    errors: list[str] = []
    try:
        with _BankSite(f"{server.url}/chat/", bank_site_port) as bank:
            page = open_page(browser, bank.url, PHONE, "bank", errors)
            page.goto(bank.url + "/")
            widget = page.frame_locator("iframe")
            expect(widget.locator("#sign-in-bank")).to_be_visible(timeout=WAIT)
            with page.context.expect_page() as opened:
                widget.locator("#sign-in-bank").click()
            popup = opened.value
            popup.wait_for_url(re.compile(rf"^{re.escape(idp.issuer)}/interaction/"))
            popup.fill("input[name=login]", "jan")
            popup.fill("input[name=password]", "jan-password")
            popup.click("button[type=submit]")
            popup.wait_for_event("close", timeout=WAIT)  # it handed the code to the widget and closed
            expect(widget.locator("#who")).to_have_text("Signed in as Jan Kowalski", timeout=WAIT)
            page.screenshot(path=str(artifacts_dir / "bank-signed-in-framed.png"))
    finally:
        server.stop()
    assert errors == []
