"""Front-end defects found by use, each pinned by a browser test against a real demo server:
typing shown under the wrong chat, over-long messages cut silently, "Connected" while offline,
links that were not links, and list markup broken by role="log"."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    CustomerApi,
    StaffApi,
    agent_signs_in,
    bubble,
    expect_online,
    guest_opens_chat,
    guest_writes,
    serious_accessibility_violations,
)

pytestmark = pytest.mark.browser

LIMIT = 4000
RECONNECTING = "Reconnecting…"


def test_a_customers_typing_stays_with_their_conversation_when_the_agent_switches(browser, demo_server):
    jan, maria = CustomerApi(demo_server.url, "jan.kowalski"), CustomerApi(demo_server.url, "maria.silva")
    try:
        jans = jan.send("I'd like to raise my card limit. [typing 1]")["conversation_id"]
        marias = maria.send("Is my transfer through yet? [typing 2]")["conversation_id"]
        agent = agent_signs_in(browser, demo_server.url, [])
        agent.click("#tab-waiting")
        agent.click(f'#list button[data-id="{jans}"]')
        expect(bubble(agent, "theirs", "[typing 1]")).to_be_visible()

        jan.typing(jans)
        expect(agent.locator("#typing")).to_have_text("Jan Kowalski is typing…")

        agent.click(f'#list button[data-id="{marias}"]')
        expect(bubble(agent, "theirs", "[typing 2]")).to_be_visible()
        expect(agent.locator("#detail-title")).to_have_text("Maria Silva")
        expect(agent.locator("#typing")).to_have_text("")  # Jan types in his own conversation, not Maria's

        jan.typing(jans)
        agent.click(f'#list button[data-id="{jans}"]')
        expect(agent.locator("#typing")).to_have_text("Jan Kowalski is typing…")  # kept per conversation
    finally:
        jan.close()
        maria.close()


def test_an_over_long_message_is_never_cut_and_is_refused_with_a_clear_message(browser, demo_server):
    context, customer = guest_opens_chat(browser, demo_server.url, [])
    guest_writes(customer, "Hello [length 1]")
    counter = customer.locator("#body-counter")
    expect(counter).to_be_hidden()

    customer.fill("#body", "x" * 3700)
    expect(counter).to_be_visible()  # near the limit
    expect(counter).to_have_text("3700 / 4000 characters")

    pasted = "y" * 5000
    customer.fill("#body", pasted)
    assert customer.input_value("#body") == pasted  # nothing cut
    expect(counter).to_have_text("5000 / 4000 characters")
    expect(customer.locator("#body")).to_have_attribute("aria-invalid", "true")
    customer.press("#body", "Enter")
    expect(customer.locator("#composer-error")).to_have_text(
        "Your message is 5000 characters long; the limit is 4000. Shorten it to send it.")
    expect(customer.locator("#messages li.msg.mine")).to_have_count(1)  # not sent
    assert customer.input_value("#body") == pasted  # still there to shorten

    # Within the limit after trimming, as the server counts (code points): it goes.
    customer.fill("#body", "  " + "€" * LIMIT + "\n")
    expect(customer.locator("#body")).not_to_have_attribute("aria-invalid", "true")
    customer.press("#body", "Enter")
    expect(customer.locator("#messages li.msg.mine")).to_have_count(2)
    expect(customer.locator("#messages li.msg.mine").last).to_have_attribute("data-state", re.compile("sent|delivered|read"))
    expect(customer.locator("#composer-error")).to_have_text("")
    expect(counter).to_be_hidden()

    # The console's reply box follows the same rule.
    staff = StaffApi(demo_server.url, "anna")
    conversation = staff.waiting()[0]["id"]
    staff.accept_and_reply(conversation, "Hello! [length 2]")
    agent = agent_signs_in(browser, demo_server.url, [])
    agent.click(f'#list button[data-id="{conversation}"]')
    agent.fill("#body", "z" * (LIMIT + 1))
    expect(agent.locator("#body-counter")).to_have_text("4001 / 4000 characters")
    agent.press("#body", "Enter")
    expect(agent.locator("#composer-error")).to_have_text(
        "Your reply is 4001 characters long; the limit is 4000. Shorten it to send it.")
    assert agent.input_value("#body") == "z" * (LIMIT + 1)
    context.close()


def _go_offline(page) -> None:
    """Cut the page's network (its open socket stays open, silently) and wait until the cut is
    in force in the browser's network service: set_offline reaches it asynchronously, and a
    ping that slipped through before it would be answered."""
    page.context.set_offline(True)
    for _ in range(100):
        if page.evaluate("() => fetch('/healthz', {cache: 'no-store'}).then(() => false, () => true)"):
            return
    raise AssertionError("the page is still online after set_offline(True)")


def _silent_loss_and_return(page, context) -> None:
    """The network goes away without closing the socket: only the heartbeat can tell."""
    expect_online(page)
    _go_offline(page)
    page.clock.run_for(19_000)
    expect(page.locator("#status")).to_have_text("Connected")  # no ping due yet
    page.clock.run_for(11_500)  # the ping at 20 s went unanswered for 10 s
    expect(page.locator("#status")).to_have_text(RECONNECTING)
    expect(page.locator("#status")).to_have_class(re.compile(r"\boffline\b"))
    context.set_offline(False)
    page.clock.run_for(15_000)  # at most one backoff step
    expect_online(page)
    expect(page.locator("#status")).to_have_text("Connected")


def test_a_silently_dead_connection_is_noticed_by_the_heartbeat_and_resumed(browser, demo_server):
    context, customer = guest_opens_chat(browser, demo_server.url, [], fake_clock=True)
    guest_writes(customer, "Hello? [heartbeat 1]")
    staff = StaffApi(demo_server.url, "anna")
    conversation = staff.waiting()[0]["id"]

    _go_offline(customer)
    staff.accept_and_reply(conversation, "Here I am. [heartbeat 2]")  # while the customer is cut off
    customer.context.set_offline(False)
    _silent_loss_and_return(customer, context)
    expect(bubble(customer, "theirs", "[heartbeat 2]")).to_be_visible()  # resumed from its cursor

    agent = agent_signs_in(browser, demo_server.url, [], fake_clock=True)
    agent.click(f'#list button[data-id="{conversation}"]')
    _silent_loss_and_return(agent, agent.context)
    customer.fill("#body", "Still there? [heartbeat 3]")
    customer.press("#body", "Enter")
    expect(bubble(agent, "theirs", "[heartbeat 3]")).to_be_visible()
    context.close()


LINKED = ("Rates: https://bank.example/rates?from=2026&to=2027. Not javascript:alert(1), "
          "not data:text/html,hi, and <b>bold</b> stays text [links 1]")


def _expect_one_safe_link(message, href: str, text: str) -> None:
    links = message.locator("a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", href)
    expect(links).to_have_text(text)
    expect(links).to_have_attribute("rel", "noopener noreferrer")
    expect(links).to_have_attribute("target", "_blank")
    expect(message.locator("b")).to_have_count(0)


def test_web_links_in_messages_are_links_and_nothing_else_is(browser, demo_server):
    context, customer = guest_opens_chat(browser, demo_server.url, [])
    guest_writes(customer, LINKED)
    mine = bubble(customer, "mine", "[links 1]")
    _expect_one_safe_link(mine, "https://bank.example/rates?from=2026&to=2027", "https://bank.example/rates?from=2026&to=2027")
    expect(mine.locator(".text")).to_contain_text("<b>bold</b> stays text")

    staff = StaffApi(demo_server.url, "anna")
    conversation = staff.waiting()[0]["id"]
    staff.accept_and_reply(conversation, "See (http://help.bank.example/cards) [links 2]")
    _expect_one_safe_link(bubble(customer, "theirs", "[links 2]"), "http://help.bank.example/cards",
                          "http://help.bank.example/cards")

    agent = agent_signs_in(browser, demo_server.url, [])
    agent.click(f'#list button[data-id="{conversation}"]')
    theirs = bubble(agent, "theirs", "[links 1]")
    _expect_one_safe_link(theirs, "https://bank.example/rates?from=2026&to=2027", "https://bank.example/rates?from=2026&to=2027")
    expect(theirs.locator(".text")).to_contain_text("javascript:alert(1)")
    _expect_one_safe_link(bubble(agent, "mine", "[links 2]"), "http://help.bank.example/cards", "http://help.bank.example/cards")
    context.close()


def test_console_and_widget_have_no_serious_accessibility_violations(browser, demo_server, artifacts_dir):
    context, customer = guest_opens_chat(browser, demo_server.url, [], axe=True)
    assert serious_accessibility_violations(customer) == []  # conversation, before the first message
    guest_writes(customer, "Can I see https://bank.example/fees here? [axe 1]")
    staff = StaffApi(demo_server.url, "anna")
    conversation = staff.waiting()[0]["id"]
    staff.accept_and_reply(conversation, "Yes. [axe 2]")
    expect(bubble(customer, "theirs", "[axe 2]")).to_be_visible()
    assert serious_accessibility_violations(customer) == []

    agent = agent_signs_in(browser, demo_server.url, [], axe=True)
    assert serious_accessibility_violations(agent) == []  # nothing selected
    agent.click(f'#list button[data-id="{conversation}"]')
    expect(bubble(agent, "mine", "[axe 2]")).to_be_visible()
    assert serious_accessibility_violations(agent) == []
    # The note switch and a note, the transfer dialog, the customer's history.
    agent.check("#mode-staff")
    agent.fill("#body", "Fee schedule checked. [axe note]")
    agent.press("#body", "Enter")
    expect(agent.locator("#messages li.msg.note", has_text="[axe note]")).to_have_attribute("data-id", re.compile(r"^\d+$"))
    assert serious_accessibility_violations(agent) == []
    agent.click("#transfer")
    expect(agent.get_by_role("dialog").get_by_role("radio").first).to_be_checked()
    assert serious_accessibility_violations(agent) == []
    agent.keyboard.press("Escape")
    agent.click("#view-history")
    expect(agent.locator("#panel-history section.past")).to_have_count(1)
    agent.click("#panel-history h3 button")  # unfold this conversation
    expect(agent.locator("#panel-history li.msg.note", has_text="[axe note]")).to_be_visible()
    assert serious_accessibility_violations(agent) == []
    agent.click("#tab-waiting")
    assert serious_accessibility_violations(agent) == []  # an empty list
    agent.screenshot(path=str(artifacts_dir / "console-axe.png"))

    # A supervisor's line of business, a joined conversation with its staff-only line.
    supervisor = agent_signs_in(browser, demo_server.url, [], username="supervisor", axe=True)
    supervisor.click("#tab-line")
    supervisor.click(f'#list button[data-id="{conversation}"]')
    supervisor.click("#join")
    expect(supervisor.locator("#messages li.msg.system.staff-only")).to_be_visible()
    assert serious_accessibility_violations(supervisor) == []
    context.close()
