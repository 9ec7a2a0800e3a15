"""Quick answers and tags in real chromium (issue 8, seed 004): Anna drags one quick answer into
her reply, edits it and sends it; drags another onto the conversation, which sends it at once;
finds a third with "/" from the keyboard; then tags the conversation from the line's list. The
guest reads each answer as an ordinary reply."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import agent_takes_a_guest, bubble

pytestmark = pytest.mark.browser


def test_a_quick_answer_dragged_to_edit_and_one_dragged_to_send(browser, demo_server, artifacts_dir):
    errors: list[str] = []
    frames: list[str] = []
    context, customer, anna, _conversation = agent_takes_a_guest(browser, demo_server.url, errors, frames,
                                                                 "My card does not work [quick]")
    panel = anna.locator("#quick-answers")
    expect(panel.locator(".quick-answer")).to_have_count(6)
    search = anna.locator("#quick-answer-search")
    search.press_sequentially("PIN")
    expect(search).to_have_value("PIN")
    expect(panel.locator(".quick-answer")).to_have_count(1)
    blocked = panel.locator(".quick-answer", has_text="Card blocked after wrong PINs")

    # 1. Dragged into the reply: it is there to edit, not sent.
    blocked.drag_to(anna.locator("#body"))
    expect(anna.locator("#body")).to_have_value("Your card was blocked after three wrong PIN entries. "
                                                "I have lifted the block: please try again shortly.")
    expect(bubble(customer, "theirs", "three wrong PIN entries")).to_have_count(0)
    anna.locator("#body").press("End")
    anna.locator("#body").press_sequentially(" Sorry for the trouble.")
    anna.press("#body", "Enter")
    expect(bubble(customer, "theirs", "please try again shortly. Sorry for the trouble.")).to_be_visible()

    # 2. Dragged onto the conversation: sent at once, as it is.
    anna.fill("#quick-answer-search", "")
    goodbye = panel.locator(".quick-answer", has_text="Anything else?")
    goodbye.drag_to(anna.locator("#messages"))
    expect(bubble(customer, "theirs", "Is there anything else I can help you with?")).to_be_visible()
    expect(anna.locator("#body")).to_have_value("")
    anna.screenshot(path=str(artifacts_dir / "console-quick-answers.png"))

    # 3. From the keyboard: "/" and a word, then Enter inserts it.
    anna.locator("#body").press_sequentially("/goodb")
    expect(anna.locator("#quick-suggestions [role=option]")).to_have_count(1)
    anna.press("#body", "Enter")
    expect(anna.locator("#body")).to_have_value("Thank you for contacting the bank. Have a good day!")
    expect(anna.locator("#body")).to_be_focused()  # back in the reply, to edit it

    # A tag from the line's list, in the same panel; an agent cannot invent one.
    anna.select_option("#tag-choice", label="Complaint")
    anna.click("#tag-add")
    expect(anna.locator("#tag-chips .tag-chip")).to_have_text(["Complaint×"])
    expect(anna.locator("#tag-new")).to_have_count(0)  # new tags are for supervisors
    anna.get_by_role("button", name="Take off the tag Complaint").click()
    expect(anna.locator("#tag-chips .tag-chip")).to_have_count(0)

    assert errors == [], "errors in the pages:\n" + "\n".join(errors)
    context.close()
