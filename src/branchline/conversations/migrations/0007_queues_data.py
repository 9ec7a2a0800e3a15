"""Each conversation waits in its line's default queue (routing 0002). Its own migration:
PostgreSQL refuses to alter a table with deferred foreign-key checks pending from an update
in the same transaction."""
from django.db import migrations


def queue_of_line(apps, schema_editor):
    Queue = apps.get_model("routing", "Queue")
    Conversation = apps.get_model("conversations", "Conversation")
    for queue in Queue.objects.filter(is_default=True):
        Conversation.objects.filter(line_of_business_id=queue.line_of_business_id, queue=None).update(queue=queue)


class Migration(migrations.Migration):
    dependencies = [("conversations", "0006_queues_rejection"), ("routing", "0002_default_queues")]

    operations = [migrations.RunPython(queue_of_line, migrations.RunPython.noop)]
