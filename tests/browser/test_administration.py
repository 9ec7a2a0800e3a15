"""The administration in real chromium, under the pages' Content Security Policy: the
administrator follows the console's link, finds the staff of their line, resets a lost
second factor and adds a topic; the page shows no script or style errors."""
import re

import pytest
from playwright.sync_api import expect

from .helpers import agent_signs_in

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_server_env():
    return {}  # no customers sign in here: no bank needed


def test_an_administrator_manages_their_line(browser, demo_server, artifacts_dir):
    errors: list[str] = []
    admin = agent_signs_in(browser, demo_server.url, errors, username="admin", axe=True)
    admin.click("#admin-link")
    admin.wait_for_url("**/admin/")
    expect(admin.locator("#site-name")).to_contain_text("Branchline administration")
    admin.screenshot(path=str(artifacts_dir / "administration-index.png"), full_page=True)

    admin.click("a[href='/admin/accounts/user/']")
    rows = admin.locator("#result_list tbody tr")
    expect(rows.filter(has_text="anna")).to_have_count(1)
    admin.screenshot(path=str(artifacts_dir / "administration-staff.png"), full_page=True)
    rows.filter(has_text="anna").locator("input.action-select").check()
    admin.select_option("select[name=action]", "reset_second_factor")
    admin.click("button[name=index]")
    expect(admin.locator("#reset-who")).to_contain_text("anna")  # asked first
    admin.click("input[value='Yes, reset it']")
    expect(admin.locator(".messagelist")).to_contain_text("Anna sets up a second factor again")

    admin.goto("/admin/cases/topic/add/")
    admin.fill("#id_name", "Savings")
    admin.select_option("#id_case_type", label="Accounts and payments")
    admin.click("input[name=_save]")
    admin.wait_for_url(re.compile(r"/admin/cases/topic/$"))
    expect(admin.locator("#result_list")).to_contain_text("Savings")
    assert errors == [], errors


def test_an_agent_is_not_let_in(browser, demo_server):
    errors: list[str] = []
    agent = agent_signs_in(browser, demo_server.url, errors, username="ben")
    expect(agent.locator("#admin-link")).to_have_count(0)
    response = agent.goto("/admin/")
    assert response is not None and response.status == 403
