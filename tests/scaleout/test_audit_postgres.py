"""The audit trail on PostgreSQL: the trigger refuses updates and deletes made through the
application, and `manage.py audit_verify` catches an edit made past it (a table owner can
disable triggers; the HMAC chain is what they cannot forge)."""
import subprocess
import sys

import psycopg
import pytest

from tests.support.servers import ROOT, manage

pytestmark = pytest.mark.scaleout

APPEND_AND_TRY = r'''
import django
django.setup()
from django.db import transaction
from branchline.audit.actions import audit_record_event
from branchline.audit.models import AuditRecord
for n in range(3):
    audit_record_event(record={"event_id": f"pg-audit-{n}", "event": "conversation.transferred",
        "occurred_at": "2026-11-28T10:00:00.5Z", "actor": {"kind": "staff", "id": 1, "name": "Anna", "address": ""},
        "subject": {"type": "conversation", "id": 1}, "data": {"n": n, "note": "Zażółć"}})
for change in (lambda: AuditRecord.objects.filter(event_id="pg-audit-1").update(actor_name="x"),
               lambda: AuditRecord.objects.filter(event_id="pg-audit-1").delete()):
    try:
        with transaction.atomic():
            change()
        print("ALLOWED")
    except Exception as error:
        print("REFUSED", "append-only" in str(error))
'''


def test_postgres_refuses_changes_and_verify_catches_an_edit_past_the_trigger(make_env, scaleout_database):
    env = make_env()
    ran = subprocess.run([sys.executable, "-c", APPEND_AND_TRY], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split("\n")[:2] == ["REFUSED True", "REFUSED True"]
    assert manage("audit_verify", env=env, check=False).returncode == 0

    dsn = scaleout_database.replace("postgres://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as db:
        db.execute("ALTER TABLE audit_auditrecord DISABLE TRIGGER audit_append_only")
        try:
            original = db.execute("SELECT actor_name FROM audit_auditrecord WHERE event_id = 'pg-audit-1'").fetchone()[0]
            db.execute("UPDATE audit_auditrecord SET actor_name = 'Mallory' WHERE event_id = 'pg-audit-1'")
            edited = manage("audit_verify", env=env, check=False)
            db.execute("UPDATE audit_auditrecord SET actor_name = %s WHERE event_id = 'pg-audit-1'", [original])
        finally:
            db.execute("ALTER TABLE audit_auditrecord ENABLE TRIGGER audit_append_only")
    assert edited.returncode != 0 and "its content does not match its hash (edited)" in edited.stderr
    assert manage("audit_verify", env=env, check=False).returncode == 0


PRUNE_AND_TRY = r'''
import django
django.setup()
from django.db import transaction
from branchline.audit.actions import audit_prune, audit_record_event
from branchline.audit.models import AuditChain, AuditRecord
for n in range(4):
    audit_record_event(record={"event_id": f"pg-old-{n}", "event": "conversation.transferred",
        "occurred_at": "2020-01-0%dT10:00:00Z" % (n + 1), "actor": {"kind": "staff", "id": 1, "name": "Anna",
        "address": ""}, "subject": {"type": "conversation", "id": 1}, "data": {"n": n}})
AuditChain.objects.filter(pk=1).update(retention_days=1)  # the whole trail, whatever else ran before
before = AuditRecord.objects.count()
print("PRUNED", audit_prune() == before, AuditRecord.objects.count())
try:
    with transaction.atomic():
        AuditRecord.objects.all().delete()
    print("ALLOWED")
except Exception as error:
    print("REFUSED", "append-only" in str(error))
'''


def test_postgres_lets_only_the_retention_task_delete(make_env, scaleout_database):
    """The trigger lets deletes through only while the retention task's transaction holds the
    chain's pruning flag: after it, deleting is refused again, and the trail verifies."""
    env = make_env(BRANCHLINE_AUDIT_RETENTION_MIN_DAYS="1")  # a day: the whole trail, whatever ran before
    ran = subprocess.run([sys.executable, "-c", PRUNE_AND_TRY], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split("\n")[:2] == ["PRUNED True 1", "REFUSED True"]  # the audit.pruned record stays
    verified = manage("audit_verify", env=env, check=False)
    assert verified.returncode == 0, verified.stderr
