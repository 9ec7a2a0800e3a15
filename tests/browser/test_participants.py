"""Several members of staff on one conversation, in a real browser: internal notes, a transfer
with a note, a supervisor's line-of-business view, joining and whispering; the customer's
page and socket never carry what only staff may read. Then a second agent reads a signed-in
customer's earlier conversations in the history panel, returns the conversation to the queue
and takes it again, hears the server's refusal when it ended under her, adds a note after the
end, and an auditor reads without being offered any action."""
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    CustomerApi,
    StaffApi,
    agent_signs_in,
    bubble,
    demo_bank_env,
    guest_opens_chat,
    guest_writes,
)

pytestmark = pytest.mark.browser

NOTE = "Customer verified by phone; card ends 4242. [secret note]"
TRANSFER_NOTE = "Disputed payment at a petrol station; Ben knows the merchant. [secret transfer]"
WHISPER = "Ask for the receipt before you promise a refund. [secret whisper]"
SECRETS = ("[secret note]", "[secret transfer]", "[secret whisper]", "(supervisor) joined", "transferred the")


@pytest.fixture
def demo_server_env(demo_bank, demo_server_port) -> dict:
    return demo_bank_env(demo_bank, demo_server_port, BRANCHLINE_MESSAGE_BURST="1000")  # Jan writes a long conversation at once


def note(page: Page, text: str):
    return page.locator("#messages li.msg.note", has_text=text)


def staff_line(page: Page, code: str):
    return page.locator(f'#messages li.msg.system.staff-only[data-code="{code}"]')


def write_note(page: Page, text: str) -> None:
    """Switch the composer to "Internal note" by keyboard, write, send with Enter."""
    page.focus("#mode-public")
    page.keyboard.press("ArrowRight")  # a radio group: arrows move and select
    expect(page.locator("#mode-staff")).to_be_checked()
    expect(page.locator("#composer")).to_have_class(re.compile(r"\bnote-mode\b"))
    page.fill("#body", text)
    page.press("#body", "Enter")
    expect(note(page, text)).to_have_attribute("data-id", re.compile(r"^\d+$"))  # stored, not a draft


def expect_focus_inside(page: Page, selector: str) -> None:
    assert page.evaluate(f"() => Boolean(document.activeElement?.closest({selector!r}))"), \
        f"focus left {selector}: {page.evaluate('() => document.activeElement?.outerHTML')}"


def test_notes_transfer_and_a_supervisors_whisper_never_reach_the_customer(browser, demo_server, artifacts_dir):
    errors: list[str] = []
    frames: list[str] = []
    context, customer = guest_opens_chat(browser, demo_server.url, errors, frames=frames)
    guest_writes(customer, "A payment on my card looks wrong. [team 1]", topic="Cards")
    conversation = StaffApi(demo_server.url, "anna").waiting()[0]["id"]
    item = f'#list button[data-id="{conversation}"]'

    # The supervisor watches the whole line of business, live, from before anyone takes it.
    supervisor = agent_signs_in(browser, demo_server.url, errors, username="supervisor")
    supervisor.click("#tab-line")
    expect(supervisor.locator("#tab-line")).to_have_attribute("aria-selected", "true")
    expect(supervisor.locator(item)).to_have_count(0)  # nobody handles it yet

    ben = agent_signs_in(browser, demo_server.url, errors, username="ben")
    anna = agent_signs_in(browser, demo_server.url, errors)
    anna.click("#tab-waiting")
    anna.click(item)
    anna.click("#accept")
    expect(supervisor.locator(item)).to_contain_text("Anna Nowicka")  # live: taken by anna
    anna.fill("#body", "Hello, I'm looking into it. [team 2]")
    anna.press("#body", "Enter")
    expect(bubble(customer, "theirs", "[team 2]")).to_be_visible()

    # 1. An internal note: tinted, labelled, with its author; the customer sees nothing of it.
    write_note(anna, NOTE)
    expect(note(anna, NOTE).locator(".note-label")).to_have_text("Internal note — only staff see this · Anna Nowicka")
    anna.screenshot(path=str(artifacts_dir / "console-note.png"))

    # 2. Transfer: a labelled modal dialog; focus stays inside; Esc closes it.
    anna.click("#transfer")
    dialog = anna.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-labelledby", "transfer-title")
    expect(dialog.get_by_role("radio")).to_have_count(3)  # ben, olga, the supervisor: not anna herself
    expect(dialog.get_by_role("radio", name=re.compile("Ben Carter"))).to_be_focused()  # the first, chosen
    for _ in range(6):
        anna.keyboard.press("Tab")
        expect_focus_inside(anna, "#transfer-dialog")
    anna.keyboard.press("Shift+Tab")
    expect_focus_inside(anna, "#transfer-dialog")
    anna.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(anna.locator("#transfer")).to_be_focused()

    anna.keyboard.press("Enter")  # open it again from the keyboard
    expect(dialog.get_by_role("radio", name=re.compile("Ben Carter"))).to_be_checked()
    dialog.get_by_label(re.compile("Note for the receiver")).fill(TRANSFER_NOTE)
    anna.screenshot(path=str(artifacts_dir / "console-transfer-dialog.png"))
    dialog.get_by_role("button", name="Transfer").click()
    expect(dialog).to_have_count(0)
    expect(anna.locator(item)).to_have_count(0)  # no longer in anna's In progress
    expect(anna.locator("#count-active")).to_have_text("")
    expect(anna.locator("#detail-sub")).to_contain_text("handled by Ben Carter")

    # 3. It arrives in ben's In progress, live; he reads the note and the transfer note.
    expect(ben.locator("#count-active")).to_have_text("1")
    ben.click(item)
    expect(note(ben, NOTE)).to_contain_text("Anna Nowicka")
    expect(staff_line(ben, "transferred").locator(".line-note")).to_have_text(TRANSFER_NOTE)
    expect(staff_line(ben, "transferred")).to_contain_text("Anna Nowicka transferred the conversation to Ben Carter.")
    expect(staff_line(ben, "transferred").locator(".tag")).to_have_text("Staff only")
    expect(bubble(customer, "system", "Ben Carter joined the conversation.")).to_be_visible()
    expect(supervisor.locator(item)).to_contain_text("Ben Carter")  # live: the line view follows the transfer

    # 4. The supervisor opens it from the line view, joins silently and whispers to ben.
    supervisor.click(item)
    expect(staff_line(supervisor, "transferred").locator(".line-note")).to_have_text(TRANSFER_NOTE)
    expect(supervisor.locator("#composer")).to_have_count(0)  # not joined: reads only
    supervisor.click("#join")
    expect(supervisor.locator("#leave")).to_be_visible()
    expect(staff_line(ben, "supervisor_joined")).to_contain_text("Stefan Supervisor (supervisor) joined")
    write_note(supervisor, WHISPER)
    expect(note(ben, WHISPER)).to_contain_text("Stefan Supervisor")  # live, at ben's
    supervisor.screenshot(path=str(artifacts_dir / "console-supervisor.png"))
    supervisor.click("#leave")
    expect(supervisor.locator("#join")).to_be_visible()
    expect(supervisor.locator("#composer")).to_have_count(0)

    # 5. Ben answers the customer; everything before it reached the customer's socket first.
    ben.fill("#body", "I've opened a dispute for you. [team 3]")
    ben.press("#body", "Enter")
    expect(bubble(customer, "theirs", "[team 3]")).to_be_visible()
    ben.screenshot(path=str(artifacts_dir / "console-after-transfer.png"))
    page = customer.content()
    received = "\n".join(frames)
    assert "[team 3]" in received and "Ben Carter joined the conversation." in received  # frames were captured
    for secret in SECRETS:
        assert secret not in page, f"{secret!r} is in the customer's page"
        assert secret not in received, f"{secret!r} reached the customer's socket"
    assert "staff_seq" not in received
    assert errors == [], "errors in the pages:\n" + "\n".join(errors)
    context.close()


def test_a_second_agent_reads_the_customers_history_and_notes_after_the_end(browser, demo_server, artifacts_dir):
    jan = CustomerApi(demo_server.url, "jan.kowalski")
    try:
        # More than a page (50) of today's conversation, so older ones need paging back.
        conversation = [jan.send(f"About my mortgage documents, line {n:02d} [history]", topic="Mortgage")
                        for n in range(1, 51)][0]["conversation_id"]
        errors: list[str] = []
        olga = agent_signs_in(browser, demo_server.url, errors, username="olga")  # handled none of them
        olga.click("#tab-waiting")
        olga.click(f'#list button[data-id="{conversation}"]')
        olga.click("#accept")

        olga.fill("#body", "Let me check your documents")
        olga.click("#view-history")
        panel = olga.locator("#panel-history")
        current = panel.locator("section.past.current h3 button")
        expect(current).to_have_text("This conversation")
        expect(current).to_have_attribute("aria-expanded", "false")  # it has its own tab
        expect(panel.locator("section.past")).to_have_count(1)  # the newest page is all today's
        olga.click("#history-older")
        pasts = panel.locator("section.past")
        expect(pasts).to_have_count(3)
        mortgage, cards = pasts.nth(1), pasts.nth(2)  # newest first
        expect(mortgage.locator("h3 button")).to_contain_text("Conversation of")
        expect(mortgage.locator("h3 button")).to_have_attribute("aria-expanded", "true")
        expect(mortgage.locator(".past-facts")).to_have_text("Ended · handled by Ben Carter")
        expect(mortgage.locator("li.msg", has_text="Can I send the documents here in the chat?")).to_be_visible()
        expect(cards.locator(".past-facts")).to_have_text("Ended · handled by Anna Nowicka")
        expect(cards.locator("li.msg", has_text="Works now, thank you!")).to_have_count(1)
        expect(olga.locator("#history-older")).to_have_count(0)
        expect(panel.locator(".history-start")).to_have_text("Start of the customer's history")
        mortgage.scroll_into_view_if_needed()
        olga.screenshot(path=str(artifacts_dir / "console-history.png"))

        # An auditor reads the same conversation from the line of business, with no actions.
        auditor = agent_signs_in(browser, demo_server.url, errors, username="auditor")
        expect(auditor.locator("#tab-line")).to_have_attribute("aria-selected", "true")
        expect(auditor.locator("#tab-active")).to_have_count(0)
        auditor.click(f'#list button[data-id="{conversation}"]')
        expect(auditor.locator("#messages li.msg", has_text="line 50")).to_be_visible()
        expect(auditor.locator("#detail-sub")).to_contain_text("handled by Olga Ivanova")
        expect(auditor.locator(".read-only")).to_have_text("Read only")
        expect(auditor.locator(".detail-header button")).to_have_count(0)
        expect(auditor.locator("#composer")).to_have_count(0)

        # Back to the conversation, by keyboard: the half-written reply is still there.
        olga.focus("#view-history")
        olga.keyboard.press("ArrowLeft")
        expect(olga.locator("#view-conversation")).to_have_attribute("aria-selected", "true")
        expect(olga.locator("#body")).to_have_value("Let me check your documents")
        expect(olga.locator("#messages li.msg").last).to_be_in_viewport()

        # Olga returns it to the queue and takes it again (the auditor's line view follows).
        olga.once("dialog", lambda d: d.accept())
        olga.click("#release")
        expect(olga.locator("#detail-sub")).to_contain_text("Waiting")
        expect(olga.locator("#accept")).to_be_visible()
        expect(olga.locator("#count-waiting")).to_have_text("1")
        expect(staff_line(olga, "released")).to_contain_text("Olga Ivanova returned the conversation to the queue.")
        expect(auditor.locator(f'#list button[data-id="{conversation}"]')).to_have_count(0)  # no longer active
        olga.click("#accept")
        expect(auditor.locator(f'#list button[data-id="{conversation}"]')).to_have_count(1)

        # While olga's transfer dialog is open, the supervisor ends the conversation: she gets
        # the server's answer, in words. A reply is no longer possible, a note still is.
        olga.click("#transfer")
        expect(olga.get_by_role("dialog").get_by_role("radio").first).to_be_checked()
        StaffApi(demo_server.url, "supervisor").post(f"/api/staff/conversations/{conversation}/end")
        olga.get_by_role("dialog").get_by_role("button", name="Transfer").click()
        expect(olga.locator("#transfer-error")).to_have_text("This conversation has ended.")
        olga.keyboard.press("Escape")
        expect(bubble(olga, "system", "The conversation has ended.")).to_be_visible()
        expect(olga.locator("#mode-public")).to_be_disabled()
        expect(olga.locator("#mode-staff")).to_be_checked()
        olga.fill("#body", "Documents list sent by post. [after the end]")
        olga.press("#body", "Enter")
        expect(note(olga, "[after the end]")).to_have_attribute("data-id", re.compile(r"^\d+$"))
        # The one error: the refused transfer, as the browser logs any failed request.
        assert [e.rsplit("/api/", 1)[-1] for e in errors] == [f"staff/conversations/{conversation}/transfer]"]
        assert errors[0].startswith("olga console.error: Failed to load resource: the server responded with a "
                                    "status of 409 (Conflict)")
    finally:
        jan.close()
