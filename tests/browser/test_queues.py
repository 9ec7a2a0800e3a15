"""Queues in real chromium (issue 8, docs/protocol.md §12), on the demo bank, where Ben and Olga
serve the Mortgages queue and Anna does not: Anna moves a guest's conversation from her queue to
Mortgages with a note; it leaves her Pending and appears, live, in Ben's; Ben reads the note and
rejects it as spam; the guest reads only that the conversation has ended, and their next message
starts a new conversation in Anna's queue. The guest's page and socket never carry the queue,
the note or the reason."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import agent_signs_in, guest_opens_chat, guest_writes

pytestmark = pytest.mark.browser

NOTE = "Asks about a mortgage on a second home [secret queue note]"
SECRETS = ("[secret queue note]", "Mortgages", "spam", "Spam", "rejected the", "rejection", "queued")


def test_move_to_another_queue_then_reject(browser, demo_server, artifacts_dir):
    errors: list[str] = []
    frames: list[str] = []
    context, customer = guest_opens_chat(browser, demo_server.url, errors, frames=frames)
    anna = agent_signs_in(browser, demo_server.url, errors)
    ben = agent_signs_in(browser, demo_server.url, errors, username="ben")
    guest_writes(customer, "Hello, a question about my card [queues 1]", topic="Cards")

    for agent in (anna, ben):
        agent.click("#tab-waiting")
    item = anna.locator("#list button", has_text="Retail Banking").first
    expect(item).to_be_visible()
    conversation = item.get_attribute("data-id")
    item.click()
    expect(anna.locator("#detail-sub")).to_contain_text("in the Retail Banking queue")

    # Anna sends it to Mortgages, which she does not serve: it leaves her Pending.
    anna.click("#more-actions")
    anna.click("#move-queue")
    dialog = anna.locator("#queue-dialog")
    expect(dialog).to_be_visible()
    expect(anna.locator("#queue-to")).to_be_focused()
    anna.select_option("#queue-to", label="Mortgages")
    anna.fill("#queue-note", NOTE)
    anna.screenshot(path=str(artifacts_dir / "console-move-to-queue.png"))
    anna.click("#queue-confirm")
    expect(dialog).to_have_count(0)
    expect(anna.locator(f'#list button[data-id="{conversation}"]')).to_have_count(0)

    # Ben serves Mortgages: it arrives live, and he reads Anna's note on the staff-only line.
    ben_item = ben.locator(f'#list button[data-id="{conversation}"]')
    expect(ben_item).to_contain_text("Mortgages")
    ben_item.click()
    queued = ben.locator('#messages li.msg.system.staff-only[data-code="queued"]')
    expect(queued).to_contain_text("moved the conversation to the Mortgages queue")
    expect(queued).to_contain_text("[secret queue note]")

    # He rejects it as spam.
    ben.click("#more-actions")
    ben.click("#reject")
    reject = ben.locator("#reject-dialog")
    expect(reject).to_be_visible()
    reject.get_by_role("radio", name="Spam").check()
    ben.screenshot(path=str(artifacts_dir / "console-reject.png"))
    ben.click("#reject-confirm")
    expect(reject).to_have_count(0)
    expect(ben.locator("#detail-sub")).to_contain_text("rejected")
    expect(ben.locator('#messages li.msg.system.staff-only[data-code="rejected"]')).to_contain_text("Spam")

    # The guest reads that it has ended, nothing of why; writing again starts anew in Anna's queue.
    expect(customer.locator("#messages")).to_contain_text("The conversation has ended.")
    customer.click("#new-conversation")
    guest_writes(customer, "Sorry, a real question now [queues 2]", topic="Cards")
    expect(anna.locator("#list button", has_text="Retail Banking")).to_have_count(1)
    assert anna.locator("#list button", has_text="Retail Banking").get_attribute("data-id") != conversation

    customer_text = customer.locator("body").inner_text() + "".join(frames)
    assert [s for s in SECRETS if s in customer_text] == []
    assert errors == [], "errors in the pages:\n" + "\n".join(errors)
    context.close()
