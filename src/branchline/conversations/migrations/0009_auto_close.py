"""Auto-close: when the customer last wrote. Conversations open at the upgrade count from the
upgrade itself (the column's default), so none closes the moment the feature arrives."""

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0011_staff_identity'),
        ('cases', '0005_topic_queue'),
        ('connectors', '0002_auto_close'),
        ('contacts', '0002_customer_sso'),
        ('conversations', '0008_queue_required'),
        ('routing', '0002_default_queues'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='conversation',
            name='customer_active_at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name='conversation',
            name='end_reason',
            field=models.CharField(blank=True, choices=[('agent', 'Ended by the agent'), ('customer_left', 'The customer left'), ('case_resolved', 'Its case was resolved'), ('rejected', 'Rejected by the agent'), ('inactive', 'No message from the customer for too long')], max_length=16),
        ),
        migrations.AlterField(
            model_name='message',
            name='system_code',
            field=models.CharField(blank=True, choices=[('agent_joined', 'Agent Joined'), ('ended', 'Ended'), ('customer_left', 'Customer Left'), ('transferred', 'Transferred'), ('released', 'Released'), ('agent_away', 'Agent Away'), ('supervisor_joined', 'Supervisor Joined'), ('customer_signed_in', 'Customer Signed In'), ('case_status', 'Case Status'), ('topic_changed', 'Topic Changed'), ('outbound', 'Outbound'), ('queued', 'Queued'), ('rejected', 'Rejected'), ('auto_closed', 'Auto Closed')], max_length=32),
        ),
        migrations.AddIndex(
            model_name='conversation',
            index=models.Index(condition=models.Q(('state', 'ended'), _negated=True), fields=['channel'], name='conversation_open_channel'),
        ),
    ]
