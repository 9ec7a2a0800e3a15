"""Cases in real chromium (issue 7): the agent resolves the case from the conversation's
header; the customer's "Thank you" lands in that resolved case; the agent continues the
conversation from Ended with a new topic; the customer, signing in later, finds the message
unread; the Cases module lists both cases and opens one on its timeline. The customer's page
and socket never carry a case's status or its staff-only lines."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    WAIT,
    agent_signs_in,
    bubble,
    customer_signs_in,
    demo_bank_env,
    expect_online,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_server_env(demo_bank, demo_server_port) -> dict:
    return demo_bank_env(demo_bank, demo_server_port)


def _conversation_item(agent, text: str):
    return agent.locator("#messages li.msg", has_text=text)


def test_resolve_thank_you_continue_and_find_it_unread(browser, demo_server, artifacts_dir):
    errors: list[str] = []
    frames: list[str] = []
    jan_context, jan = customer_signs_in(browser, demo_server.url, errors, "jan", frames=frames)
    jan.select_option("#topic", label="Cards")
    jan.fill("#body", "My card is blocked again")
    jan.press("#body", "Enter")
    expect(bubble(jan, "mine", "My card is blocked again")).to_have_count(1)

    agent = agent_signs_in(browser, demo_server.url, errors)
    agent.click("#tab-waiting")
    agent.locator("#list button", has_text="Jan Kowalski").first.click()
    agent.click("#accept")
    expect(agent.locator("#case-status")).to_be_visible()
    expect(agent.locator("#case-status option:checked")).to_have_text("Open")
    agent.fill("#body", "Unblocked: try again in a minute.")
    agent.click("#send")
    expect(bubble(jan, "theirs", "Unblocked: try again in a minute.")).to_have_count(1, timeout=WAIT)

    # 1. The agent resolves the case in place, in the conversation's header.
    agent.select_option("#case-status", label="Resolved (resolved)")
    expect(_conversation_item(agent, "set the case's status to Resolved")).to_have_count(1, timeout=WAIT)
    expect(agent.locator("#case-status option:checked")).to_have_text("Resolved (resolved)")
    agent.screenshot(path=str(artifacts_dir / "case-resolved-in-header.png"))

    # 2. Jan's last "Thank you" lands in the same conversation, in the resolved case.
    jan.fill("#body", "Thank you for your help")
    jan.press("#body", "Enter")
    expect(_conversation_item(agent, "Thank you for your help")).to_have_count(1, timeout=WAIT)
    expect(agent.locator("#case-status option:checked")).to_have_text("Resolved (resolved)")

    # The agent ends it; the resolved case is closed now (its status is shown, not offered).
    agent.once("dialog", lambda dialog: dialog.accept())
    agent.click("#end")
    expect(agent.locator("#case-status-text")).to_have_text("Resolved", timeout=WAIT)
    expect(jan.locator("#topic-row")).to_be_visible(timeout=WAIT)  # his next message would start anew
    jan_context.close()  # Jan leaves

    # 3. From Ended, the agent finds Jan and continues the conversation on a new topic.
    agent.click("#tab-ended")
    agent.fill("#ended-search", "kowal")
    agent.click("#ended-search-go")
    expect(agent.locator("#list button")).not_to_have_count(0)
    expect(agent.locator("#list button").filter(has_not_text="Jan Kowalski")).to_have_count(0)
    agent.locator("#list button", has_text="Jan Kowalski").first.click()
    agent.click("#continue")
    dialog = agent.locator("#continue-dialog")
    expect(dialog).to_be_visible()
    loans = agent.locator("#continue-topic option", has_text=re.compile(r"^Loans")).first.get_attribute("value")
    agent.select_option("#continue-topic", value=loans)
    agent.fill("#continue-body", "Jan, the loan offer you asked about is ready.")
    agent.screenshot(path=str(artifacts_dir / "case-continue-dialog.png"))
    agent.click("#continue-confirm")
    expect(dialog).to_have_count(0)
    expect(agent.locator("#tab-active")).to_have_attribute("aria-selected", "true")
    expect(agent.locator("#detail-sub")).to_contain_text("started by the bank")
    expect(agent.locator("#case-topic option:checked")).to_contain_text("Loans")
    expect(agent.locator("#case-status option:checked")).to_have_text("Open")
    expect(bubble(agent, "mine", "the loan offer you asked about")).to_have_count(1)

    # 4. Jan signs in later and finds the message unread.
    _later_context, later = customer_signs_in(browser, demo_server.url, errors, "jan later", frames=frames)
    expect(bubble(later, "theirs", "the loan offer you asked about is ready")).to_have_count(1, timeout=WAIT)
    expect(later.locator("#unread-badge")).to_be_visible()
    expect(later.locator("#unread-divider")).to_have_count(1)
    later.screenshot(path=str(artifacts_dir / "case-outbound-unread.png"))
    expect_online(later)

    # The Cases module: both of Jan's new cases, newest first; one opens on its timeline.
    agent.click("#cases-link")
    rows = agent.locator("#case-table tbody tr")
    expect(rows.first).to_contain_text("Loans")
    expect(rows.first).to_contain_text("Open")
    resolved_row = agent.locator("#case-table tbody tr", has_text="Resolved").first
    expect(resolved_row).to_contain_text("Jan Kowalski")
    agent.screenshot(path=str(artifacts_dir / "cases-module.png"))
    resolved_row.locator("button.case-open").click()
    timeline = agent.locator("#case-timeline")
    expect(timeline).to_contain_text("My card is blocked again")
    expect(timeline).to_contain_text("set the case's status to Resolved")
    expect(timeline).to_contain_text("Thank you for your help")
    expect(agent.locator("#case-page-status-text")).to_have_text("Resolved")
    agent.screenshot(path=str(artifacts_dir / "case-timeline.png"))

    # The customer's pages and sockets never carried the case's staff-only lines or status.
    content = later.content()
    assert "set the case's status" not in content and "started this conversation" not in content
    assert any("Thank you for your help" in f for f in frames), "the customer's socket frames were not recorded"
    assert not [f for f in frames if "case_status" in f or "topic_changed" in f or '"outbound"' in f]
    assert errors == [], "\n".join(errors)
