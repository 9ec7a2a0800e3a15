"""Fewer indexes written per message (bench/README.md, "Hot path"): foreign keys a composite
index already leads with lose their own, last_message_at leaves every index so that the
per-message UPDATE of the conversation is a HOT update on PostgreSQL, and the table keeps
room on each page for those in-place updates (fillfactor)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# 70 %: a conversation row is updated once per message; PostgreSQL updates it in place
# only while its page has room for the new version.
FILLFACTOR = 70


def _fillfactor(value):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            table = schema_editor.quote_name(apps.get_model("conversations", "Conversation")._meta.db_table)
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {value})")
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_ip_allow_list'),
        ('cases', '0001_initial'),
        ('connectors', '0001_initial'),
        ('contacts', '0001_initial'),
        ('conversations', '0002_participants_streams_visibility'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='conversation',
            name='conversatio_assigne_f42940_idx',
        ),
        migrations.AlterField(
            model_name='conversation',
            name='assigned_agent',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='conversations', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='conversation',
            name='customer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='conversations', to='contacts.customer'),
        ),
        migrations.AlterField(
            model_name='conversation',
            name='line_of_business',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='conversations', to='accounts.lineofbusiness'),
        ),
        migrations.AlterField(
            model_name='message',
            name='author',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='message',
            name='conversation',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='conversations.conversation'),
        ),
        migrations.AlterField(
            model_name='message',
            name='customer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='messages', to='contacts.customer'),
        ),
        migrations.AlterField(
            model_name='message',
            name='subject',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='conversation',
            index=models.Index(fields=['assigned_agent', 'state'], name='conversation_agent_state'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('author__isnull', False)), fields=['author'], name='message_author'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('subject__isnull', False)), fields=['subject'], name='message_subject'),
        ),
        migrations.RunPython(_fillfactor(FILLFACTOR), _fillfactor(100)),
    ]
