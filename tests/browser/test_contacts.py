"""Barring in real chromium (issue 8, docs/protocol.md §13): Anna bars an abusive guest from the
conversation; the guest's conversation ends and their next message is refused in the widget and
never reaches the console; the supervisor finds the guest on the Contacts page, with the reason
and the dropped message, and lifts the bar."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import StaffApi, agent_signs_in, agent_takes_a_guest

pytestmark = pytest.mark.browser

REASON = "Insulted the agent twice [secret bar reason]"


def test_a_barred_customers_next_message_never_reaches_the_console(browser, demo_server, artifacts_dir):
    errors: list[str] = []
    frames: list[str] = []
    context, customer, anna, conversation = agent_takes_a_guest(browser, demo_server.url, errors, frames,
                                                                "You are all useless [bar 1]")

    anna.click("#more-actions")
    anna.click("#bar")
    dialog = anna.locator("#bar-dialog")
    expect(dialog).to_be_visible()
    expect(anna.locator("#bar-confirm")).to_be_disabled()  # a reason first
    anna.fill("#bar-reason", REASON)
    anna.screenshot(path=str(artifacts_dir / "console-bar.png"))
    anna.click("#bar-confirm")
    expect(dialog).to_have_count(0)
    expect(anna.locator("#detail-title")).to_contain_text("barred")
    expect(anna.locator('#messages li.msg.system.staff-only[data-code="barred"]')).to_contain_text("[secret bar reason]")

    # The guest's conversation has ended; what they write next is refused and reaches nobody.
    expect(customer.locator("#messages")).to_contain_text("The conversation has ended.")
    customer.click("#new-conversation")
    customer.select_option("#topic", label="Cards")
    customer.fill("#body", "Hello?? [bar 2]")
    customer.press("#body", "Enter")
    expect(customer.locator("#composer-error")).to_contain_text("You cannot send messages here")
    anna.click("#tab-waiting")
    expect(anna.locator("#list")).not_to_contain_text("Customer")
    assert StaffApi(demo_server.url, "anna").waiting() == []

    # The supervisor finds the guest among the barred contacts, and lifts the bar.
    supervisor = agent_signs_in(browser, demo_server.url, errors, username="supervisor")
    supervisor.click("#contacts-link")
    supervisor.check("#contact-barred")
    supervisor.click("#contact-find")
    row = supervisor.locator("#contacts-table tbody tr").first
    expect(row).to_contain_text("Customer (guest)")
    expect(row).to_contain_text("[secret bar reason]")
    expect(row).to_contain_text("Anna Nowicka")
    expect(row.locator("td").nth(2)).to_have_text("1")  # the one dropped message
    supervisor.screenshot(path=str(artifacts_dir / "console-contacts.png"))
    supervisor.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Lift bar").click()
    expect(row.get_by_role("button", name="Lift bar")).to_have_count(0)

    customer_text = customer.locator("body").inner_text() + "".join(frames)
    assert [s for s in ("[secret bar reason]", "barred the customer") if s in customer_text] == []
    assert errors == [], "errors in the pages:\n" + "\n".join(errors)
    context.close()
