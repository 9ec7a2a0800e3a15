"""Who else is here, in real chromium (issue 8): while Anna handles a conversation and the
supervisor opens it from the line of business, each sees that the other has it open, and the
supervisor sees Anna typing; the guest sees none of it."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import agent_signs_in, agent_takes_a_guest

pytestmark = pytest.mark.browser


def test_two_members_of_staff_on_one_conversation_see_each_other(browser, demo_server, artifacts_dir):
    errors: list[str] = []
    frames: list[str] = []
    context, customer, anna, conversation = agent_takes_a_guest(browser, demo_server.url, errors, frames,
                                                                "Is my transfer on its way? [presence]")

    supervisor = agent_signs_in(browser, demo_server.url, errors, username="supervisor")
    supervisor.click("#tab-line")
    supervisor.click(f'#list button[data-id="{conversation}"]')
    expect(anna.locator("#presence")).to_have_text("Stefan Supervisor also has this conversation open")
    expect(supervisor.locator("#presence")).to_have_text("Anna Nowicka also has this conversation open")

    anna.locator("#body").press_sequentially("Let me check")
    expect(supervisor.locator("#presence")).to_contain_text("Anna Nowicka is typing…")
    supervisor.screenshot(path=str(artifacts_dir / "console-presence.png"))

    supervisor.click("#tab-ended")  # the list changes; leaving the conversation is choosing another one
    supervisor.click("#cases-link")
    expect(anna.locator("#presence")).to_have_count(0)

    assert "Stefan Supervisor" not in customer.locator("body").inner_text() + "".join(frames)
    assert errors == [], "errors in the pages:\n" + "\n".join(errors)
    context.close()
