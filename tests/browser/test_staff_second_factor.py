"""A member of staff sets up an authenticator at the first sign-in and signs in with its code
next time, in real chromium, with the second factor required (as in production)."""
import re

import pytest
from playwright.sync_api import expect

from tests.support.servers import totp_code

from .helpers import DEMO_PASSWORD, DESKTOP, WAIT, expect_online, open_page

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_server_env():
    return {"BRANCHLINE_STAFF_SECOND_FACTOR": "required"}


def _password(page, username="anna"):
    page.goto("/console/")
    page.wait_for_url("**/console/login/**")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/login/second-factor/")


def test_enrolment_then_sign_in_with_the_authenticators_code(browser, demo_server, artifacts_dir):
    errors: list[str] = []
    page = open_page(browser, demo_server.url, DESKTOP, "anna", errors)
    _password(page)
    expect(page.locator("h2")).to_have_text("Set up your second factor")
    expect(page.locator("#totp-qr svg")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "staff-enrol-authenticator.png"))
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#code", "000000" if totp_code(secret) != "000000" else "111111")
    page.click("button[type=submit]")
    expect(page.locator("[role=alert]")).to_have_text("That code is not right.")
    # The page answered 401, as the sign-in page does for a wrong password: chromium logs it.
    assert len(errors) == 1 and "status of 401" in errors.pop()
    # The right code at once after a wrong one (django-otp's own pause would refuse it as "not right").
    page.fill("#code", totp_code(secret))
    page.click("button[type=submit]")
    expect(page.locator("#recovery-codes li")).to_have_count(10, timeout=WAIT)
    recovery = page.locator("#recovery-codes li").first.inner_text()
    page.click("#continue")
    page.wait_for_url(re.compile(r"/console/$"))
    expect_online(page)

    # Another browser: the password, then the code (no second enrolment); then a recovery code.
    later = open_page(browser, demo_server.url, DESKTOP, "anna-later", errors)
    _password(later)
    expect(later.locator("h2")).to_have_text("Confirm it is you")
    later.fill("#code", totp_code(secret, steps_ahead=1))  # the current one was used above
    later.click("button[type=submit]")
    later.wait_for_url(re.compile(r"/console/$"))
    expect_online(later)

    lost_phone = open_page(browser, demo_server.url, DESKTOP, "anna-recovery", errors)
    _password(lost_phone)
    lost_phone.fill("#code", recovery)
    lost_phone.click("button[type=submit]")
    lost_phone.wait_for_url(re.compile(r"/console/$"))
    expect_online(lost_phone)
    assert errors == [], errors


def _virtual_authenticator(page) -> tuple:
    """Chromium's virtual authenticator (DevTools WebAuthn domain): a platform passkey that
    verifies the user at once, as a fingerprint reader would."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    created = devtools.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    return devtools, created["authenticatorId"]


def test_a_passkey_set_up_at_the_first_sign_in_signs_in_next_time(browser, demo_server, artifacts_dir):
    """On localhost (a secure context whose host name can be a passkey's relying party; an IP
    address cannot), as the console would be on the bank's own host name."""
    errors: list[str] = []
    base = demo_server.url.replace("127.0.0.1", "localhost")
    page = open_page(browser, base, DESKTOP, "olga", errors)
    devtools, authenticator = _virtual_authenticator(page)
    _password(page, "olga")
    expect(page.locator("h2")).to_have_text("Set up your second factor")
    page.screenshot(path=str(artifacts_dir / "staff-enrol-passkey.png"))
    page.click("#passkey-button")
    expect(page.locator("#recovery-codes li")).to_have_count(10, timeout=WAIT)
    credentials = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(credentials) == 1 and credentials[0]["rpId"] == "localhost"
    page.click("#continue")
    page.wait_for_url(re.compile(r"/console/$"))
    expect_online(page)

    # The same device (its authenticator) in a new browser context: the password, then the passkey.
    later = page.context.browser.new_context(viewport=DESKTOP, base_url=base, locale="en-US").new_page()
    later_devtools, later_authenticator = _virtual_authenticator(later)
    later_devtools.send("WebAuthn.addCredential", {"authenticatorId": later_authenticator,
                                                   "credential": credentials[0]})
    _password(later, "olga")
    expect(later.locator("h2")).to_have_text("Confirm it is you")
    expect(later.locator("#passkey-button")).to_have_text("Use your passkey")
    later.screenshot(path=str(artifacts_dir / "staff-sign-in-passkey.png"))
    later.click("#passkey-button")
    later.wait_for_url(re.compile(r"/console/$"))
    expect_online(later)
    used = later_devtools.send("WebAuthn.getCredentials", {"authenticatorId": later_authenticator})["credentials"]
    assert used[0]["signCount"] == credentials[0]["signCount"] + 1

    # Without a passkey on this device: the person cancels (no authenticator answers).
    lost = page.context.browser.new_context(viewport=DESKTOP, base_url=base, locale="en-US").new_page()
    lost.set_default_timeout(WAIT)
    _password(lost, "olga")
    lost.evaluate("() => { navigator.credentials.get = () => "
                  "Promise.reject(new DOMException('cancelled', 'NotAllowedError')); }")
    lost.click("#passkey-button")
    expect(lost.locator("[role=alert]")).to_have_text("The passkey was not used. Try again, or use a code.")
    assert "/second-factor/" in lost.url
    assert errors == [], errors
