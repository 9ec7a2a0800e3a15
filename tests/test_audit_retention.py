"""The audit trail's retention: set by an administrator (never below the deployment's
minimum), enforced by the retention task, which deletes the oldest stretch of the chain and
records its own pruning in it; `audit_verify` still holds afterwards, and still catches
records deleted and passed off as pruned."""
import json
from datetime import UTC as utc
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from branchline.audit.actions import audit_prune, audit_record_event
from branchline.audit.chain import start_mac
from branchline.audit.models import AuditChain, AuditRecord
from branchline.audit.selectors import verify_chain
from tests.factories import staff_browser
from tests.support.tasks import run_tasks

pytestmark = pytest.mark.django_db
JAN = datetime(2026, 1, 10, 9, 0, tzinfo=utc)


def _append(n: int, occurred_at: datetime):
    audit_record_event(record={
        "event_id": f"r{n:031d}", "event": "conversation.transferred", "occurred_at": occurred_at.isoformat(),
        "actor": {"kind": "staff", "id": 7, "name": "Anna", "address": ""},
        "subject": {"type": "conversation", "id": n}, "data": {"n": n}})


@pytest.fixture
def trail():
    """Six records from January, then four from November."""
    for n in range(1, 7):
        _append(n, JAN + timedelta(hours=n))
    for n in range(7, 11):
        _append(n, datetime(2026, 11, 20, tzinfo=utc) + timedelta(hours=n))


def _keep(days):
    AuditChain.objects.filter(pk=1).update(retention_days=days)


def _problems() -> list[str]:
    return [str(finding) for finding in verify_chain()[1]]


def test_without_a_retention_nothing_is_pruned(trail):
    assert audit_prune(now=datetime(2030, 1, 1, tzinfo=utc)) == 0
    assert AuditRecord.objects.count() == 10


def test_the_oldest_records_are_pruned_and_the_pruning_is_recorded(trail):
    _keep(90)
    pruned = audit_prune(now=datetime(2026, 12, 6, tzinfo=utc))
    assert pruned == 6
    assert list(AuditRecord.objects.order_by("seq").values_list("seq", flat=True)) == [7, 8, 9, 10, 11]
    record = AuditRecord.objects.get(seq=11)
    head = AuditChain.objects.get()
    assert (record.event, record.actor_kind, record.actor_name) == ("audit.pruned", "system", "audit retention")
    assert record.data["through_seq"] == head.start_seq == 6 and record.data["through_hash"] == head.start_hash
    assert record.data["count"] == 6 and record.data["retention_days"] == 90
    assert _problems() == []
    call_command("audit_verify")
    assert audit_prune(now=datetime(2026, 12, 6, tzinfo=utc)) == 0  # nothing more is old enough


def test_pruning_goes_in_batches_along_the_chain(trail):
    _keep(90)
    now = datetime(2026, 12, 6, tzinfo=utc)
    assert [audit_prune(now=now, batch=4), audit_prune(now=now, batch=4), audit_prune(now=now, batch=4)] == [4, 2, 0]
    assert AuditChain.objects.get().start_seq == 6
    assert list(AuditRecord.objects.filter(event="audit.pruned").values_list("data__through_seq", flat=True)) \
        == [4, 6]
    assert _problems() == []


def test_a_recent_record_ends_the_stretch_that_can_go(trail):
    """Events recorded late (a worker that was down) stay with their neighbours: only an
    unbroken oldest stretch of old events is pruned."""
    _append(11, JAN)  # occurred in January, recorded after November's
    _keep(90)
    assert audit_prune(now=datetime(2026, 12, 6, tzinfo=utc)) == 6
    assert AuditRecord.objects.filter(seq=11).exists()


def test_records_deleted_and_passed_off_as_pruned_are_found(trail):
    """Someone with the database but not the key deletes the oldest records and moves the
    chain's start: its MAC gives them away. With the key (or a start copied from before),
    the missing audit.pruned record does."""
    cut = AuditRecord.objects.get(seq=3)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditrecord WHERE seq <= 3")
    AuditChain.objects.filter(pk=1).update(start_seq=3, start_hash=cut.hash, start_mac="0" * 64)
    assert _problems() == ["seq 3: the chain's start was moved (its MAC does not match): records were deleted and "
                           "passed off as pruned",
                           "seq 3: no audit.pruned record in the chain says the records up to here were pruned"]
    AuditChain.objects.filter(pk=1).update(start_mac=start_mac(3, cut.hash))
    assert _problems() == ["seq 3: no audit.pruned record in the chain says the records up to here were pruned"]


def test_a_record_slipped_in_before_the_start_is_found(trail):
    _keep(90)
    audit_prune(now=datetime(2026, 12, 6, tzinfo=utc))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditrecord (event_id, event, occurred_at, recorded_at, actor_kind, actor_id, "
            "actor_name, address, subject_type, subject_id, data, seq, prev_hash, hash) "
            "SELECT 'forged', event, occurred_at, recorded_at, actor_kind, actor_id, actor_name, address, "
            "subject_type, subject_id, data, 2, prev_hash, hash FROM audit_auditrecord WHERE seq = 8")
    assert _problems() == ["seq 6: record(s) before the chain's start (inserted)"]


def test_the_command_prunes_now(trail, capsys):
    _keep(90)
    call_command("audit_prune")  # today: January's records are older than 90 days
    assert "pruned 6 audit records" in capsys.readouterr().out


# --- administration ------------------------------------------------------------------------

def _put(client, body):
    return client.put("/api/admin/audit-retention", json.dumps(body), content_type="application/json",
                      HTTP_X_CSRFTOKEN=client.csrf)


@pytest.mark.django_db(transaction=True)  # the audit record is written by a task
def test_an_administrator_sets_the_retention_and_it_is_audited(world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "AUDIT_RETENTION_MIN_DAYS": 365}
    admin = staff_browser(world.admin)
    assert admin.get("/api/staff/audit-retention").json() == {"retention_days": None, "minimum_days": 365,
                                                               "pruned_through_seq": 0}
    too_short = _put(admin, {"retention_days": 364})
    assert (too_short.status_code, too_short.json()["error"]["code"]) == (422, "retention_invalid")
    assert _put(admin, {"retention_days": 3650}).json()["retention_days"] == 3650
    assert _put(admin, {"retention_days": None}).json()["retention_days"] is None
    run_tasks()
    changes = AuditRecord.objects.filter(event="audit.retention_set").order_by("seq")
    assert [(r.data["previous"], r.data["retention_days"], r.actor_id) for r in changes] == [
        (None, 3650, world.admin.id), (3650, None, world.admin.id)]


@pytest.mark.parametrize("who,read,write", [("auditor", 200, 403), ("supervisor", 403, 403), ("agent", 403, 403)])
def test_only_administrators_set_it_and_auditors_read_it(world, who, read, write):
    client = staff_browser(getattr(world, who))
    assert client.get("/api/staff/audit-retention").status_code == read
    refused = _put(client, {"retention_days": 400})
    assert (refused.status_code, refused.json()["error"]["code"]) == (write, "role_forbidden")
    assert AuditChain.objects.filter(retention_days__isnull=False).count() == 0


def test_pruning_never_turns_tampering_into_a_clean_start(trail, caplog):
    """Someone with the database but not the key deletes a record, and sets the retention to a
    day: the retention task refuses to prune a stretch that does not verify, and keeps the
    minimum, so the tampering stays for audit_verify to find."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditrecord WHERE seq = 3")
    _keep(1)
    assert audit_prune(now=datetime(2026, 12, 6, tzinfo=utc)) == 0
    assert "nothing pruned" in caplog.text
    assert AuditRecord.objects.count() == 9 and AuditChain.objects.get().start_seq == 0
    assert _problems() == ["seq 4: expected seq 3: records missing (deleted or inserted)"]


def test_a_retention_below_the_minimum_in_the_database_is_not_obeyed(trail, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "AUDIT_RETENTION_MIN_DAYS": 400}
    _keep(1)  # written past the API, which refuses it
    assert audit_prune(now=datetime(2026, 12, 6, tzinfo=utc)) == 0  # January is younger than 400 days
    assert audit_prune(now=datetime(2027, 3, 1, tzinfo=utc)) == 6
    assert AuditRecord.objects.get(event="audit.pruned").data["retention_days"] == 400


def test_a_siem_asking_for_pruned_records_is_told_and_verification_against_it_holds(trail, capsys):
    _keep(90)
    known = AuditRecord.objects.get(seq=4)
    audit_prune(now=datetime(2026, 12, 6, tzinfo=utc))
    assert verify_chain(expect=(known.seq, known.hash))[1] == []  # pruned, as the trail records
    call_command("audit_export", "--after", "2")
    assert "records 3 to 6 were pruned by the retention" in capsys.readouterr().err
