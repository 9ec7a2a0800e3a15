import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("conversations", "0007_queues_data")]

    operations = [
        migrations.AlterField(
            model_name='conversation',
            name='queue',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='conversations', to='routing.queue'),
        ),
        migrations.AddIndex(
            model_name='conversation',
            index=models.Index(fields=['queue', 'state'], name='conversation_queue_state'),
        ),
    ]
