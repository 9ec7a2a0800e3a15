"""Auditors and administrators read the audit trail over the API, newest first, with filters;
nobody else does."""
import json

import pytest

from branchline.audit.models import AuditRecord
from tests import factories
from tests.support.tasks import run_tasks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def trail(world):
    admin = factories.staff_browser(world.admin)
    for networks in (["10.0.0.0/8"], []):  # two audited changes by the administrator
        admin.put("/api/admin/ip-allow-lists/api", json.dumps({"networks": networks}),
                  content_type="application/json", HTTP_X_CSRFTOKEN=admin.csrf)
    run_tasks()
    return AuditRecord.objects.order_by("seq")


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditors_and_administrators_read_the_trail_newest_first_with_filters(world, trail, role):
    reader = factories.staff_browser(world.auditor if role == "auditor" else world.admin)
    page = reader.get("/api/staff/audit-records", {"event": "access.allow_list_changed", "limit": 1}).json()
    newest = trail.filter(event="access.allow_list_changed").last()
    assert [r["seq"] for r in page["records"]] == [newest.seq] and page["has_more"]
    assert page["records"][0]["actor_id"] == world.admin.id and page["records"][0]["occurred_at"].endswith("Z")
    older = reader.get("/api/staff/audit-records", {"event": "access.allow_list_changed",
                                                    "before_seq": newest.seq}).json()
    assert len(older["records"]) == 1 and not older["has_more"]
    by_actor = reader.get("/api/staff/audit-records", {"actor_kind": "staff", "actor_id": world.admin.id}).json()
    assert {r["event"] for r in by_actor["records"]} == {"access.allow_list_changed"}
    assert reader.get("/api/staff/audit-records", {"limit": 500}).status_code == 422


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_others_may_not_read_the_trail(world, trail, role):
    user = world.agent if role == "agent" else world.supervisor
    response = factories.staff_browser(user).get("/api/staff/audit-records")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "role_forbidden")


@pytest.mark.parametrize("role,status", [("auditor", 200), ("admin", 200), ("supervisor", 403), ("agent", 403)])
def test_the_audit_page_is_for_auditors_and_administrators(world, role, status):
    reader = factories.staff_browser(getattr(world, role))
    page = reader.get("/console/audit/")
    assert page.status_code == status
    console = reader.get("/console/").content.decode()
    assert ('data-audit-url="/console/audit/"' in console) == (status == 200)
    if status == 200:
        assert b'"customer.data_read"' in page.content  # the audited events, for the filter
        assert (b'data-can-set-retention="true"' in page.content) == (role == "admin")


def test_the_audit_page_needs_a_sign_in(client):
    response = client.get("/console/audit/")
    assert response.status_code == 302 and "/console/login/" in response["Location"]


def test_reading_the_trail_is_itself_recorded_once_per_search(world, trail):
    auditor = factories.staff_browser(world.auditor)
    for _page in range(3):  # one search, paged: one record
        auditor.get("/api/staff/audit-records", {"event": "access.allow_list_changed", "limit": 1})
    auditor.get("/api/staff/audit-records", {"subject_type": "customer", "subject_id": 7})
    factories.staff_browser(world.agent).get("/api/staff/audit-records")  # refused: not recorded as a read
    run_tasks()
    reads = AuditRecord.objects.filter(event="audit.read").order_by("seq")
    assert [(r.actor_id, r.data["filters"]) for r in reads] == [
        (world.auditor.id, {"event": "access.allow_list_changed"}),
        (world.auditor.id, {"subject_id": 7, "subject_type": "customer"})]
