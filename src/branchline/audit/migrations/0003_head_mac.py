"""The chain's head gets an HMAC of its own (a head moved back to hide deleted records needs
the key), and PostgreSQL refuses TRUNCATE of the trail (row triggers never see it)."""
from django.db import migrations, models

from branchline.audit.chain import head_mac

TRUNCATE = """
CREATE FUNCTION branchline_audit_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only' USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditrecord
    FOR EACH STATEMENT EXECUTE FUNCTION branchline_audit_no_truncate();
"""
TRUNCATE_REVERSE = """
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditrecord;
DROP FUNCTION IF EXISTS branchline_audit_no_truncate();
"""


def sign_head(apps, schema_editor):
    Chain = apps.get_model("audit", "AuditChain")
    for head in Chain.objects.all():
        head.mac = head_mac(head.last_seq, head.last_hash)
        head.save(update_fields=["mac"])


def truncate_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRUNCATE)


def drop_truncate_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRUNCATE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_hash_chain")]

    operations = [
        migrations.AddField("auditchain", "mac", models.CharField(blank=True, max_length=64)),
        migrations.RunPython(sign_head, migrations.RunPython.noop),
        migrations.RunPython(truncate_trigger, drop_truncate_trigger),
    ]
