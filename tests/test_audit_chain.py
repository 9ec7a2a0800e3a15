"""The audit trail is a hash chain: `manage.py audit_verify` passes on an intact trail and
names the place where a record was edited, inserted or deleted; the database refuses
updates and deletes made through the application."""
import json
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction

from branchline.audit import selectors
from branchline.audit.actions import audit_record_event
from branchline.audit.chain import GENESIS, record_hash
from branchline.audit.models import AuditChain, AuditRecord
from branchline.audit.selectors import verify_chain

pytestmark = pytest.mark.django_db


def _record(n: int, **data) -> dict:
    return {"event_id": f"e{n:031d}", "event": "conversation.transferred", "occurred_at": "2026-11-28T10:00:00.123456Z",
            "actor": {"kind": "staff", "id": "7" if n == 2 else 7, "name": "Anna Nowicka", "address": "198.51.100.4"},
            "subject": {"type": "conversation", "id": 40 + n}, "data": {"to": "Ben", "n": n, **data}}


@pytest.fixture
def trail():
    for n in range(1, 6):
        audit_record_event(record=_record(n, note="Zażółć gęślą jaźń"))
    return list(AuditRecord.objects.order_by("seq"))


def _problems() -> list[str]:
    return [str(finding) for finding in verify_chain()[1]]


def _as_attacker(sql: str, params=()):
    """What someone with the database's credentials can do: the triggers are theirs to drop."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS audit_no_update")
        cursor.execute(sql, params)


def test_an_intact_trail_verifies(trail, capsys):
    assert [r.seq for r in trail] == [1, 2, 3, 4, 5]
    assert trail[0].prev_hash == GENESIS and all(b.prev_hash == a.hash for a, b in zip(trail, trail[1:]))
    assert _problems() == []
    call_command("audit_verify")
    assert "5 records, chain intact" in capsys.readouterr().out


def test_a_retried_event_adds_nothing(trail):
    again = audit_record_event(record=_record(3, note="Zażółć gęślą jaźń"))
    assert again.seq == 3 and AuditRecord.objects.count() == 5
    assert AuditChain.objects.get().last_seq == 5 and _problems() == []


def test_an_edited_record_is_found(trail):
    _as_attacker("UPDATE audit_auditrecord SET actor_name = %s WHERE seq = 3", ["Ben Kowal"])
    assert _problems() == ["seq 3: its content does not match its hash (edited)"]
    with pytest.raises(CommandError, match="does not verify: 1 finding"):
        call_command("audit_verify")


def test_an_edit_with_a_recomputed_hash_still_breaks_the_chain_without_the_key(trail, settings):
    """Recomputing needs the HMAC key, which is not in the database."""
    forged = trail[2]
    forged.data = {**forged.data, "to": "Mallory"}
    real = record_hash(forged)
    settings.AUDIT_CHAIN_KEY = "a key the attacker guessed"
    fake = record_hash(forged)
    settings.AUDIT_CHAIN_KEY = ""
    assert fake != real
    _as_attacker("UPDATE audit_auditrecord SET data = %s, hash = %s WHERE seq = 3", [json.dumps(forged.data), fake])
    problems = _problems()
    assert "seq 3: its content does not match its hash (edited)" in problems
    assert "seq 4: does not follow the record before it (one was deleted or inserted)" in problems


def test_cutting_the_newest_records_and_moving_the_head_back_is_found(trail):
    """Without the key the head cannot be signed for its new place."""
    _as_attacker("DELETE FROM audit_auditrecord WHERE seq >= 4")
    _as_attacker("UPDATE audit_auditchain SET last_seq = 3, last_hash = %s", [trail[2].hash])
    assert _problems() == ["seq 3: the chain's head was changed (its MAC does not match)"]


def test_a_record_known_from_outside_must_still_be_there(trail):
    """A head replayed from an earlier moment passes the MAC: the SIEM's last line does not."""
    head = AuditChain.objects.values_list("last_seq", "last_hash", "mac").get()
    audit_record_event(record=_record(6))
    exported = AuditRecord.objects.get(seq=6)
    assert verify_chain(expect=(6, exported.hash))[1] == []
    _as_attacker("DELETE FROM audit_auditrecord WHERE seq = 6")
    _as_attacker("UPDATE audit_auditchain SET last_seq = %s, last_hash = %s, mac = %s", list(head))
    assert _problems() == []  # the database alone cannot tell
    assert [str(f) for f in verify_chain(expect=(6, exported.hash))[1]] == [
        "seq 6: the record known from outside is missing or different (the chain was cut back, or rewritten "
        "with the key)"]
    with pytest.raises(CommandError, match="does not verify"):
        call_command("audit_verify", "--expect-seq", "6", "--expect-hash", exported.hash)


def test_records_appended_while_verifying_are_not_findings(trail, monkeypatch):
    stale = AuditChain.objects.values_list("last_seq", "last_hash", "mac").get()
    audit_record_event(record=_record(6))  # lands after verify read the head
    heads = iter([stale, AuditChain.objects.values_list("last_seq", "last_hash", "mac").get()])
    monkeypatch.setattr(selectors, "_head", lambda: next(heads))
    assert verify_chain()[1] == []


def test_a_record_beyond_the_head_is_inserted(trail):
    last = trail[-1]
    _as_attacker(
        "INSERT INTO audit_auditrecord (event_id, event, occurred_at, recorded_at, actor_kind, actor_id, actor_name, "
        "address, subject_type, subject_id, data, seq, prev_hash, hash) "
        "SELECT 'forged', event, occurred_at, recorded_at, actor_kind, actor_id, actor_name, address, subject_type, "
        "subject_id, data, %s, %s, %s FROM audit_auditrecord WHERE seq = 5", [6, last.hash, "f" * 64])
    assert _problems() == ["seq 6: 1 record(s) beyond the chain's head (inserted)"]


def test_a_deleted_record_is_found(trail):
    _as_attacker("DELETE FROM audit_auditrecord WHERE seq = 2")
    assert _problems() == ["seq 3: expected seq 2: records missing (deleted or inserted)"]


def test_deleting_the_newest_records_is_found(trail):
    _as_attacker("DELETE FROM audit_auditrecord WHERE seq >= 4")
    assert _problems() == ["seq 5: the chain ends at seq 3, its head says 5: the newest records were deleted, "
                           "or the head was changed"]


def test_the_database_refuses_updates(trail):
    """Deletes too on PostgreSQL (tests/scaleout/test_audit_postgres.py)."""
    with pytest.raises((IntegrityError, DatabaseError), match="append-only"), transaction.atomic():
        AuditRecord.objects.filter(seq=1).update(actor_name="x")
    assert _problems() == []


def test_the_export_is_json_lines_that_verify_off_the_machine(trail, tmp_path, capsys):
    out = tmp_path / "audit.jsonl"
    call_command("audit_export", "--after", "2", "--output", str(out))
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["seq"] for line in lines] == [3, 4, 5]
    assert lines[0]["data"]["note"] == "Zażółć gęślą jaźń" and lines[0]["occurred_at"] == "2026-11-28T10:00:00.123456Z"
    # Each line carries what its hash covers: a SIEM holding the key can check it, and the chain.
    assert all(record_hash(SimpleNamespace(**line)) == line["hash"] for line in lines)
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(lines, lines[1:]))
    assert "exported 3 audit records; the last seq is 5" in capsys.readouterr().err
    call_command("audit_export")  # stdout, from the start
    assert len(capsys.readouterr().out.splitlines()) == 5
