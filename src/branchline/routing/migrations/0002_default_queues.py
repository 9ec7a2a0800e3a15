"""Each line of business gets its default queue (named after it): its conversations wait
there, as they waited in the line before queues were their own objects. The line's agents
and supervisors are enabled on it, and every one of them is granted every channel, so that
nobody sees less after the upgrade than before it."""
from django.db import migrations

HANDLING_ROLES = ("agent", "supervisor")


def forwards(apps, schema_editor):
    LineOfBusiness = apps.get_model("accounts", "LineOfBusiness")
    User = apps.get_model("accounts", "User")
    Channel = apps.get_model("connectors", "Channel")
    Queue = apps.get_model("routing", "Queue")
    QueueMember = apps.get_model("routing", "QueueMember")
    ChannelGrant = apps.get_model("routing", "ChannelGrant")
    for line in LineOfBusiness.objects.all():
        queue, _ = Queue.objects.get_or_create(line_of_business=line, is_default=True, defaults={"name": line.name})
        QueueMember.objects.bulk_create(
            [QueueMember(queue=queue, user_id=user_id) for user_id in
             User.objects.filter(line_of_business=line, role__in=HANDLING_ROLES).values_list("id", flat=True)],
            ignore_conflicts=True)
    channels = list(Channel.objects.values_list("id", flat=True))
    ChannelGrant.objects.bulk_create(
        [ChannelGrant(user_id=user_id, channel_id=channel_id)
         for user_id in User.objects.filter(role__in=HANDLING_ROLES).values_list("id", flat=True)
         for channel_id in channels],
        ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
