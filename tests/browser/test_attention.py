"""For the people using the console every day (issue 8), in real chromium: the open
conversation survives a reload; keyboard shortcuts move between lists and conversations and
take a waiting conversation; "?" lists them; the notifications switch is kept."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import StaffApi, agent_takes_a_guest, guest_opens_chat, guest_writes

pytestmark = pytest.mark.browser


def test_reload_keeps_the_open_conversation_and_the_keyboard_does_the_rest(browser, demo_server, artifacts_dir):
    errors: list[str] = []
    frames: list[str] = []
    context, _customer, anna, conversation = agent_takes_a_guest(browser, demo_server.url, errors, frames,
                                                                 "First guest [attention 1]")
    expect(anna.locator("#detail-sub")).to_contain_text("In progress")
    anna.reload()
    expect(anna.locator(f'#list button[data-id="{conversation}"]')).to_have_attribute("aria-current", "true")
    expect(anna.locator("#messages")).to_contain_text("[attention 1]")

    # A second guest waits: Alt+2 shows Waiting, Alt+↓ opens it, Alt+A takes it.
    second_context, second = guest_opens_chat(browser, demo_server.url, errors)
    guest_writes(second, "Second guest [attention 2]", topic="Cards")
    waiting = StaffApi(demo_server.url, "anna").waiting()[0]["id"]
    anna.locator("body").click()
    anna.keyboard.press("Alt+Digit2")
    expect(anna.locator("#tab-waiting")).to_have_attribute("aria-selected", "true")
    anna.keyboard.press("Alt+ArrowDown")
    expect(anna.locator(f'#list button[data-id="{waiting}"]')).to_have_attribute("aria-current", "true")
    anna.locator("body").click()
    anna.keyboard.press("Alt+KeyA")
    expect(anna.locator("#detail-sub")).to_contain_text("In progress")
    anna.keyboard.press("Alt+KeyR")
    expect(anna.locator("#body")).to_be_focused()

    # An emoji from the composer's picker goes in at the caret.
    anna.locator("#body").press_sequentially("Done ")
    anna.click("#emoji-toggle")
    anna.get_by_role("button", name="Thumbs up").click()
    expect(anna.locator("#emoji-grid")).to_have_count(0)
    expect(anna.locator("#body")).to_have_value("Done 👍")

    anna.locator("#detail-title").click()
    anna.keyboard.press("Shift+Slash")
    expect(anna.locator("#shortcuts-dialog")).to_be_visible()
    anna.screenshot(path=str(artifacts_dir / "console-shortcuts.png"))
    anna.keyboard.press("Escape")
    expect(anna.locator("#shortcuts-dialog")).to_have_count(0)

    # Notifications: switched off, and still off after a reload.
    expect(anna.locator("#alerts-toggle")).to_have_attribute("aria-pressed", "true")
    anna.click("#alerts-toggle")
    anna.reload()
    expect(anna.locator("#alerts-toggle")).to_have_attribute("aria-pressed", "false")

    assert errors == [], "errors in the pages:\n" + "\n".join(errors)
    second_context.close()
    context.close()
