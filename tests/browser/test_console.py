"""The staff console's everyday behaviour in a real browser: several chats at once with unread
badges and counts, paging back through a long conversation without losing the reader's place,
ending a conversation, the tabs by keyboard, and signing out."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import CustomerApi, StaffApi, agent_signs_in, bubble, demo_bank_env

pytestmark = pytest.mark.browser

LONG = 60  # customer messages in Jan's conversation: more than one page (50)


@pytest.fixture
def demo_server_env(demo_bank, demo_server_port) -> dict:
    return demo_bank_env(demo_bank, demo_server_port, BRANCHLINE_MESSAGE_BURST="1000")  # Jan writes 60 messages at once


def test_several_chats_paging_back_ending_and_signing_out(browser, demo_server):
    jan, maria = CustomerApi(demo_server.url, "jan.kowalski"), CustomerApi(demo_server.url, "maria.silva")
    try:
        jans = [jan.send(f"Line [page {n:02d}]") for n in range(1, LONG + 1)][0]["conversation_id"]
        marias = maria.send("Is my transfer through yet? [multi 1]")["conversation_id"]
        staff = StaffApi(demo_server.url, "anna")
        for conversation in (jans, marias):
            staff.post(f"/api/staff/conversations/{conversation}/accept")

        errors: list[str] = []
        agent = agent_signs_in(browser, demo_server.url, errors)
        expect(agent.locator("#count-active")).to_have_text("2")
        jan_item, maria_item = (agent.locator(f'#list button[data-id="{c}"]') for c in (jans, marias))
        expect(jan_item.locator(".badge")).to_have_text(str(LONG))
        expect(maria_item.locator(".badge")).to_have_attribute("aria-label", "1 unread")
        expect(agent).to_have_title(f"({LONG + 1}) Branchline console")

        # Jan's long conversation opens on its newest page, scrolled to the end, and is read.
        jan_item.click()
        messages = agent.locator("#messages li.msg")
        expect(messages).to_have_count(50)  # seq 12-61: Jan's lines 12-60 and "joined"
        expect(messages.first).to_contain_text("[page 12]")
        expect(messages.last).to_contain_text("joined the conversation")
        expect(messages.last).to_be_in_viewport()
        expect(jan_item.locator(".badge")).to_have_count(0)
        expect(agent).to_have_title("(1) Branchline console")

        # Paging back keeps what the reader looks at where it was.
        agent.eval_on_selector("#messages", "list => { list.scrollTop = 0; }")
        oldest_shown = bubble(agent, "theirs", "[page 12]")
        before = oldest_shown.bounding_box()["y"]
        agent.click("#load-earlier")
        expect(messages).to_have_count(LONG + 1)
        expect(messages.first).to_contain_text("[page 01]")
        expect(agent.locator("#load-earlier")).to_have_count(0)
        expect(agent.locator(".history-start")).to_have_text("Start of the conversation")
        assert abs(oldest_shown.bounding_box()["y"] - before) <= 2

        # Another chat moves on meanwhile: its badge and the title count it, live.
        maria.send("Hello? [multi 2]")
        expect(maria_item.locator(".badge")).to_have_text("2")
        expect(agent).to_have_title("(2) Branchline console")
        expect(bubble(agent, "theirs", "[multi 2]")).to_have_count(0)  # not in Jan's chat
        maria_item.click()
        expect(bubble(agent, "theirs", "[multi 2]")).to_be_visible()
        expect(maria_item.locator(".badge")).to_have_count(0)
        expect(agent).to_have_title("Branchline console")

        # Ending asks first, then the conversation moves to Ended: no more replies, notes still.
        agent.once("dialog", lambda dialog: dialog.accept())
        agent.click("#end")
        expect(agent.locator("#mode-public")).to_be_disabled()
        expect(agent.locator("#mode-staff")).to_be_checked()
        expect(agent.locator("#count-active")).to_have_text("1")
        expect(bubble(agent, "system", "The conversation has ended.")).to_be_visible()

        # The tabs work by keyboard (WAI-ARIA tabs: arrows move and select).
        agent.focus("#tab-active")
        agent.keyboard.press("ArrowRight")
        expect(agent.locator("#tab-waiting")).to_have_attribute("aria-selected", "true")
        expect(agent.locator("#tab-waiting")).to_be_focused()
        agent.keyboard.press("ArrowRight")
        expect(agent.locator("#tab-ended")).to_have_attribute("aria-selected", "true")
        expect(agent.locator(f'#list button[data-id="{marias}"]')).to_have_count(1)
        expect(agent.locator("#list-panel")).to_have_attribute("aria-labelledby", "tab-ended")

        assert errors == [], "errors in the console:\n" + "\n".join(errors)
        agent.click("#sign-out button")
        agent.wait_for_url(re.compile(r"/console/login/$"))
        agent.goto("/console/")
        agent.wait_for_url("**/console/login/**")  # signed out for real
        # A panel's request still in flight when the session ends is answered 401, and chromium
        # logs that whatever the page does with it: the only errors allowed after signing out.
        cut_short = [e for e in errors if "status of 401" in e and "/api/staff/" in e]
        assert [e for e in errors if e not in cut_short] == [], "errors in the console:\n" + "\n".join(errors)
    finally:
        jan.close()
        maria.close()
