"""The audit trail in the console (/console/audit/), in real chromium: the auditor follows
the console's link, reads the newest records, narrows them with filters (kept in the
address) and pages back; the administrator changes the retention; an agent has no link and
is told the page is not for them."""

import pytest
from playwright.sync_api import expect

from .helpers import WAIT, agent_signs_in, guest_opens_chat, guest_writes, serious_accessibility_violations

pytestmark = pytest.mark.browser


def _customer_data_read(browser, demo_server, errors):
    """Something for the trail: a guest writes, Anna opens the conversation (a read of the
    customer's data), and accepts it."""
    _context, customer = guest_opens_chat(browser, demo_server.url, errors)
    guest_writes(customer, "I lost my card")
    anna = agent_signs_in(browser, demo_server.url, errors)
    anna.click("#tab-waiting")
    anna.locator("#list button[data-id]").first.click()
    anna.click("#accept")
    expect(anna.locator("#mode-public")).to_be_enabled(timeout=WAIT)
    expect(anna.locator("#audit-link")).to_have_count(0)  # agents do not read the trail
    return anna


def test_an_auditor_reads_and_filters_the_trail(browser, demo_server, artifacts_dir):
    errors: list[str] = []
    anna = _customer_data_read(browser, demo_server, errors)
    auditor = agent_signs_in(browser, demo_server.url, errors, username="auditor", axe=True)
    auditor.click("#audit-link")
    auditor.wait_for_url("**/console/audit/")
    rows = auditor.locator("#audit-records tbody tr")
    assert _listed_eventually(auditor, "customer.data_read")
    read = auditor.locator("#audit-records tbody tr", has_text="customer.data_read").first
    expect(read).to_contain_text("Anna Nowicka (staff")
    expect(auditor.locator("#retention-kept")).to_have_text("Kept forever.")
    expect(auditor.locator("#retention-change")).to_have_count(0)  # auditors read, administrators set
    auditor.screenshot(path=str(artifacts_dir / "audit-trail.png"), full_page=True)
    assert serious_accessibility_violations(auditor) == []

    auditor.fill("#filter-event", "conversation.accepted")
    auditor.click("#audit-apply")
    accepted_by_anna = rows.filter(has_text="conversation.accepted").filter(has_text="Anna Nowicka")
    expect(accepted_by_anna.first).to_be_visible()
    expect(rows.filter(has_not_text="conversation.accepted")).to_have_count(0)
    assert "event=conversation.accepted" in auditor.url
    auditor.reload()  # the filters live in the address
    expect(auditor.locator("#filter-event")).to_have_value("conversation.accepted")
    expect(accepted_by_anna.first).to_be_visible()
    expect(rows.filter(has_not_text="conversation.accepted")).to_have_count(0)
    auditor.select_option("#filter-actor_kind", "customer")
    auditor.click("#audit-apply")
    expect(auditor.locator("#audit-end")).to_have_text("No records match these filters")
    auditor.click("#audit-clear")
    expect(rows.first).to_be_visible()
    assert errors == [], errors
    anna.context.close()


def test_the_administrator_sets_the_retention_and_an_agent_is_kept_out(browser, demo_server):
    errors: list[str] = []
    admin = agent_signs_in(browser, demo_server.url, errors, username="admin")
    admin.click("#audit-link")
    admin.click("#retention-change")
    expect(admin.locator("#retention-forever")).to_be_focused()  # the form's chosen option, for the keyboard
    admin.fill("#retention-days", "30")
    admin.click("#retention-save")  # below the minimum: the browser does not send it (the server refuses it too)
    expect(admin.locator("#retention-days:invalid")).to_have_count(1)
    expect(admin.locator("#retention-kept")).to_have_text("Kept forever.")
    admin.fill("#retention-days", "400")
    admin.click("#retention-save")
    expect(admin.locator("#retention-kept")).to_have_text("Kept for 400 days.")
    expect(admin.locator("#retention-change")).to_be_focused()
    admin.reload()
    expect(admin.locator("#retention-kept")).to_have_text("Kept for 400 days.")
    assert _listed_eventually(admin, "audit.retention_set")  # its change is in the trail

    ben = agent_signs_in(browser, demo_server.url, errors, username="ben")
    response = ben.goto("/console/audit/")
    assert response is not None and response.status == 403
    expect(ben.locator("[role=alert]")).to_have_text("Only auditors and administrators read the audit trail.")
    errors[:] = [e for e in errors if "status of 403" not in e]  # chromium logs the refused page
    assert errors == [], errors


def _listed_eventually(page, event: str) -> bool:
    """The in-process task worker writes a record within a second or two of its event; the
    page shows what was there when it asked, so ask again (bounded)."""
    for _attempt in range(20):
        if page.locator("#audit-records tbody tr", has_text=event).count():
            return True
        page.wait_for_timeout(500)
        page.click("#audit-apply")
    return False
