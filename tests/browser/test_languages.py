"""The widget and the console in the reader's language, in real chromium (issue 8, docs/protocol.md
§18): a guest whose browser speaks Polish gets the widget in Polish, system lines included, worded
on the page from the line's params while the agent's console stays English; the guest switches to
Russian from the menu; the agent switches the console to Polish."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import StaffApi, agent_signs_in, guest_opens_chat, guest_writes

pytestmark = pytest.mark.browser


def test_the_widget_in_polish_then_russian_and_the_console_in_polish(browser, demo_server, artifacts_dir):
    errors: list[str] = []
    context, customer = guest_opens_chat(browser, demo_server.url, errors, locale="pl-PL")
    assert customer.locator("html").get_attribute("lang") == "pl"
    expect(customer.locator("#send")).to_have_text("Wyślij")
    expect(customer.locator("#body")).to_have_attribute("placeholder", "Napisz wiadomość…")
    expect(customer.locator("#who")).to_have_text("Rozmawiasz jako gość")
    guest_writes(customer, "Dzień dobry, mam pytanie o kartę [pl 1]", topic="Cards")
    expect(customer.locator("#messages li.msg.mine").last).to_contain_text("Wysłano")

    anna = agent_signs_in(browser, demo_server.url, errors)  # her browser speaks English
    conversation = StaffApi(demo_server.url, "anna").waiting()[0]["id"]
    anna.click("#tab-waiting")
    anna.click(f'#list button[data-id="{conversation}"]')
    anna.click("#accept")
    expect(anna.locator('#messages li.msg.system[data-code="agent_joined"]')).to_have_text(
        "Anna Nowicka joined the conversation.")
    expect(customer.locator("#messages li.msg.system").last).to_have_text("Anna Nowicka dołącza do rozmowy.")
    expect(anna.locator("#details-language")).to_have_text("Polish")
    customer.screenshot(path=str(artifacts_dir / "widget-polish.png"))

    # The guest picks Russian: the page comes back in it, the conversation and its lines too.
    customer.select_option("#language", "ru")
    customer.wait_for_load_state()
    expect(customer.locator("html")).to_have_attribute("lang", "ru")
    expect(customer.locator("#send")).to_have_text("Отправить")
    expect(customer.locator("#messages li.msg.system").last).to_have_text(
        "Anna Nowicka присоединяется к разговору.")
    expect(customer.locator("#messages")).to_contain_text("[pl 1]")

    # Anna picks Polish for the console.
    anna.select_option("#language", "pl")
    anna.wait_for_load_state()
    expect(anna.locator("html")).to_have_attribute("lang", "pl")
    expect(anna.locator("#tab-active")).to_contain_text("W toku")
    anna.click(f'#list button[data-id="{conversation}"]')
    expect(anna.locator('#messages li.msg.system[data-code="agent_joined"]')).to_have_text(
        "Anna Nowicka dołącza do rozmowy.")
    expect(anna.locator("#send")).to_have_text("Wyślij")
    anna.screenshot(path=str(artifacts_dir / "console-polish.png"))
    assert errors == [], "errors in the pages:\n" + "\n".join(errors)
