"""The audit trail becomes a hash chain (audit/chain.py) and append-only in the database.

Existing records are chained in the order they were written (id), so `audit_verify` holds
for them from the start. Triggers refuse any UPDATE of a record; on PostgreSQL also any DELETE
except while the retention task prunes (the chain's `pruning` flag, set inside its
transaction). SQLite (the embedded setup) has no DELETE trigger: Django's test flush deletes
row by row there, and a deletion is caught by `audit_verify` all the same."""
from django.db import migrations, models

from branchline.audit.chain import GENESIS, record_hash

POSTGRES = """
CREATE FUNCTION branchline_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_auditchain WHERE id = 1 AND pruning) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only' USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_auditrecord
    FOR EACH ROW EXECUTE FUNCTION branchline_audit_append_only();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS audit_append_only ON audit_auditrecord;
DROP FUNCTION IF EXISTS branchline_audit_append_only();
"""
SQLITE = ["""CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_auditrecord
              BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"""]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS audit_no_update"]


def chain_existing(apps, schema_editor):
    Record, Chain = apps.get_model("audit", "AuditRecord"), apps.get_model("audit", "AuditChain")
    seq, previous = 0, GENESIS
    for record in Record.objects.order_by("id").iterator():
        seq += 1
        record.seq, record.prev_hash = seq, previous
        record.hash = previous = record_hash(record)
        record.save(update_fields=["seq", "prev_hash", "hash"])
    Chain.objects.create(id=1, last_seq=seq, last_hash=previous)


def triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [POSTGRES] if vendor == "postgresql" else SQLITE if vendor == "sqlite" else []
    for statement in statements:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [POSTGRES_REVERSE] if vendor == "postgresql" else SQLITE_REVERSE if vendor == "sqlite" else []
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_record")]

    operations = [
        migrations.CreateModel(
            name="AuditChain",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("last_seq", models.BigIntegerField(default=0)),
                ("last_hash", models.CharField(default=GENESIS, max_length=64)),
                ("pruning", models.BooleanField(default=False)),
            ],
        ),
        migrations.AddField("auditrecord", "seq", models.BigIntegerField(null=True)),
        migrations.AddField("auditrecord", "prev_hash", models.CharField(default="", max_length=64), preserve_default=False),
        migrations.AddField("auditrecord", "hash", models.CharField(default="", max_length=64), preserve_default=False),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.AlterField("auditrecord", "seq", models.BigIntegerField(unique=True)),
        migrations.RunPython(triggers, drop_triggers),
    ]
