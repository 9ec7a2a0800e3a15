"""The customer widget and the staff console in a real browser (Debian's chromium), against
a real demo server: a signed-in customer (Jan) and an agent (anna) chat live, the customer
reloads, leaves, and comes back to the agent's answer marked unread."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    SENT_OR_LATER,
    agent_signs_in,
    bubble,
    customer_signs_in,
    expect_online,
    reveal_history,
)

pytestmark = pytest.mark.browser

# From the seeded history of jan.kowalski (branchline/web/demo_data.py).
OLDEST_PAST_LINE = "Works now, thank you!"  # Cards conversation, 9 days ago
NEWEST_PAST_LINE = "Can I send the documents here in the chat?"  # Mortgage conversation, 2 days ago

FIRST = "Hello, I'd like to ask about a car loan. [browser-test 1]"
REPLY = "Hi Jan! Happy to help. What amount are you thinking of? [browser-test 2]"
SECOND = "About 20 000 over five years. [browser-test 3]"
AWAY_REPLY = "I've prepared an offer for you; it's in your documents. [browser-test 4]"


def test_signed_in_customer_and_agent_chat_live_and_unread_survives_leaving(browser, demo_server, artifacts_dir):
    customer_errors: list[str] = []
    agent_errors: list[str] = []
    customer = agent = None
    try:
        # 1. Jan signs in on a phone-sized page and sees his earlier conversations.
        customer_context, customer = customer_signs_in(browser, demo_server.url, customer_errors, "customer")
        expect(bubble(customer, "mine", NEWEST_PAST_LINE)).to_be_visible()  # on the newest page already
        expect(customer.locator("#messages li.msg.theirs").first).to_be_attached()
        expect(reveal_history(customer, OLDEST_PAST_LINE)).to_have_count(1)
        expect(customer.locator("#unread-divider")).to_have_count(0)
        expect(customer.locator("#unread-badge")).to_be_hidden()
        expect(customer.locator("#topic-row")).to_be_visible()  # his last conversation has ended

        # 2. He starts a new conversation on a topic; anna takes it from Waiting and they chat live.
        customer.select_option("#topic", label="Loans")
        customer.fill("#body", FIRST)
        customer.press("#body", "Enter")
        expect(bubble(customer, "mine", FIRST)).to_have_attribute("data-state", SENT_OR_LATER)
        expect(customer.locator("#composer-error")).to_have_text("")

        agent = agent_signs_in(browser, demo_server.url, agent_errors)
        agent.click("#tab-waiting")
        waiting = agent.locator("#list li button[data-id]", has_text="Jan Kowalski")
        expect(waiting).to_have_count(1)
        expect(waiting).to_contain_text("Loans")
        waiting.click()
        expect(bubble(agent, "theirs", FIRST)).to_be_visible()
        agent.click("#accept")
        expect(agent.locator("#composer")).to_be_visible()
        expect(agent.locator("#tab-active")).to_have_attribute("aria-selected", "true")
        expect(agent.locator("#list li button[data-id]", has_text="Jan Kowalski")).to_have_count(1)

        agent.fill("#body", REPLY)
        agent.press("#body", "Enter")
        reply = bubble(customer, "theirs", REPLY)
        expect(reply).to_be_visible()  # live, over the customer's socket
        expect(reply.locator(".author")).to_contain_text("Anna")
        expect(customer.locator("#topic-row")).to_be_hidden()  # the conversation is open now

        customer.fill("#body", SECOND)
        customer.press("#body", "Enter")
        expect(bubble(agent, "theirs", SECOND)).to_be_visible()  # live, over the agent's socket
        expect(customer.locator("#composer-error")).to_have_text("")
        # Receipts travel back live too: each side has read the other's message.
        expect(bubble(agent, "mine", REPLY)).to_have_attribute("data-state", "read")
        expect(bubble(customer, "mine", SECOND)).to_have_attribute("data-state", "read")

        # 3. A reload keeps the session (sessionStorage) and shows the whole history.
        customer.reload()
        expect_online(customer)
        for kind, text in (("mine", FIRST), ("theirs", REPLY), ("mine", SECOND), ("mine", NEWEST_PAST_LINE)):
            expect(bubble(customer, kind, text)).to_have_count(1)
        expect(reveal_history(customer, OLDEST_PAST_LINE)).to_have_count(1)
        expect(customer.locator("#unread-divider")).to_have_count(0)  # everything was read before
        expect(customer.locator("#unread-badge")).to_be_hidden()
        expect(customer.locator("#topic-row")).to_be_hidden()

        # 4. Jan leaves; anna answers while he is away; he comes back in a new session.
        customer_context.close()
        agent.fill("#body", AWAY_REPLY)
        agent.press("#body", "Enter")
        expect(bubble(agent, "mine", AWAY_REPLY)).to_have_attribute("data-state", "sent")  # stored, unseen

        customer_context, customer = customer_signs_in(browser, demo_server.url, customer_errors, "customer (back)")
        away = bubble(customer, "theirs", AWAY_REPLY)
        expect(away).to_have_count(1)
        expect(customer.locator("#unread-badge")).to_be_visible()
        expect(customer.locator("#unread-badge")).to_have_text("1 new")
        divider = customer.locator("#messages li.divider#unread-divider")
        expect(divider).to_have_count(1)
        expect(divider).to_have_text("New messages")
        # The divider sits right before the agent's answer, and nothing else is new after it.
        expect(customer.locator("#unread-divider + li.msg.theirs")).to_contain_text(AWAY_REPLY)
        expect(customer.locator("#unread-divider ~ li.msg")).to_have_count(1)
        expect(customer.locator("#messages li.msg").last).to_contain_text(AWAY_REPLY)
        expect(bubble(customer, "mine", SECOND)).to_have_count(1)  # the earlier exchange is there too
        # Shown on a visible page = read: anna sees it live.
        expect(bubble(agent, "mine", AWAY_REPLY)).to_have_attribute("data-state", "read")

        assert customer_errors == [], "errors in the customer page:\n" + "\n".join(customer_errors)
    finally:
        for page, name in ((customer, "chat-live-customer.png"), (agent, "chat-live-agent.png")):
            if page is not None and not page.is_closed():
                page.screenshot(path=str(artifacts_dir / name))
        if agent_errors:
            print("errors in the agent console (not asserted):\n" + "\n".join(agent_errors))
