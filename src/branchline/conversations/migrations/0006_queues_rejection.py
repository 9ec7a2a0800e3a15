"""Queues are their own objects (docs/adr/0019): each conversation waits in one, first its
line's default queue (routing 0002); and a rejected conversation keeps why."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0011_staff_identity'),
        ('cases', '0005_topic_queue'),
        ('connectors', '0001_initial'),
        ('contacts', '0002_customer_sso'),
        ('conversations', '0005_case_workflow'),
        ('routing', '0002_default_queues'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='conversation',
            name='queue',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='conversations', to='routing.queue'),
        ),
        migrations.AddField(
            model_name='conversation',
            name='rejection',
            field=models.CharField(blank=True, choices=[('duplicate', 'A duplicate'), ('spam', 'Spam'), ('abuse', 'Abusive'), ('other', 'Another reason')], max_length=16),
        ),
        migrations.AlterField(
            model_name='conversation',
            name='end_reason',
            field=models.CharField(blank=True, choices=[('agent', 'Ended by the agent'), ('customer_left', 'The customer left'), ('case_resolved', 'Its case was resolved'), ('rejected', 'Rejected by the agent')], max_length=16),
        ),
        migrations.AlterField(
            model_name='message',
            name='system_code',
            field=models.CharField(blank=True, choices=[('agent_joined', 'Agent Joined'), ('ended', 'Ended'), ('customer_left', 'Customer Left'), ('transferred', 'Transferred'), ('released', 'Released'), ('agent_away', 'Agent Away'), ('supervisor_joined', 'Supervisor Joined'), ('customer_signed_in', 'Customer Signed In'), ('case_status', 'Case Status'), ('topic_changed', 'Topic Changed'), ('outbound', 'Outbound'), ('queued', 'Queued'), ('rejected', 'Rejected')], max_length=32),
        ),
    ]
