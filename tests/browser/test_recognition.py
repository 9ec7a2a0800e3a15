"""Recognizing a customer in real chromium (issue 8, seed 004): Anna relates a guest to a contact
of the demo bank found as she types, and records a new contact for another guest; each becomes
Recognized in the console, and the guest's page shows none of it."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import agent_takes_a_guest

pytestmark = pytest.mark.browser


def test_relating_and_recording_contacts(browser, demo_server, artifacts_dir):
    errors: list[str] = []
    frames: list[str] = []
    context, customer, anna, _ = agent_takes_a_guest(browser, demo_server.url, errors, frames,
                                                     "Hello, this is Piotr. I have a question about my card [recognize 1]")
    expect(anna.locator("#customer-badge")).to_have_text("Anonymous")
    expect(anna.locator("#details-language")).to_have_text("English")  # read on the server from their words
    anna.fill("#contact-search", "Ziel")
    match = anna.locator("#contact-matches button", has_text="Piotr Zieliński")
    expect(match).to_be_visible()
    match.click()
    expect(anna.locator("#customer-badge")).to_have_text("Recognized")
    expect(anna.locator("#detail-title")).to_have_text("Piotr Zieliński (recognized)")
    expect(anna.locator("#contact-card")).to_contain_text("+48 601 234 567")
    expect(anna.locator("#list")).to_contain_text("Piotr Zieliński")  # the list names them too
    anna.screenshot(path=str(artifacts_dir / "console-recognized.png"))

    # A second guest nobody knows: Anna records them.
    context2, customer2, anna, _ = agent_takes_a_guest(browser, demo_server.url, errors, frames,
                                                       "I am new here [recognize 2]")
    anna.fill("#contact-search", "Nowakowska")
    expect(anna.locator("#contact-matches")).to_contain_text("No contact found.")
    anna.click("#contact-add")
    anna.fill("#contact-first_name", "Ewa")
    anna.fill("#contact-last_name", "Nowakowska")
    anna.click("#contact-save")
    expect(anna.locator("#contact-new .form-error")).to_contain_text("e-mail address or a phone")
    anna.fill("#contact-phone", "+48 600 700 800")
    anna.fill("#contact-company", "Nowakowska i Syn")
    anna.click("#contact-save")
    expect(anna.locator("#customer-badge")).to_have_text("Recognized")
    expect(anna.locator("#contact-card")).to_contain_text("Nowakowska i Syn")
    anna.screenshot(path=str(artifacts_dir / "console-contact-new.png"))

    for page in (customer, customer2):
        expect(page.locator("#messages")).to_contain_text("[recognize")
        text = page.locator("body").inner_text()
        assert "Zieliński" not in text and "Nowakowska" not in text
    assert not any("Nowakowska" in f or "601 234 567" in f for f in frames)
    assert errors == [], "errors in the pages:\n" + "\n".join(errors)
