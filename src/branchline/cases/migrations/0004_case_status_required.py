"""The case's status is required and the old string goes; the Cases module's indexes; who
handled each case (docs/adr/0018), filled from the agents who took part in its conversations."""
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def handlers_from_participants(apps, schema_editor):
    Participant = apps.get_model("conversations", "Participant")
    CaseHandler = apps.get_model("cases", "CaseHandler")
    seen = set()
    rows = (Participant.objects.filter(role="agent", user__isnull=False)
            .values_list("conversation__case_id", "user_id", "joined_at").order_by("joined_at"))
    handlers = []
    for case_id, user_id, joined_at in rows.iterator():
        if (case_id, user_id) not in seen:
            seen.add((case_id, user_id))
            handlers.append(CaseHandler(case_id=case_id, user_id=user_id, first_at=joined_at))
    CaseHandler.objects.bulk_create(handlers, batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0003_case_statuses_data"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveField(model_name="case", name="old_status"),
        migrations.RenameField(model_name="case", old_name="status_ref", new_name="status"),
        migrations.AlterField(
            model_name="case",
            name="status",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="cases", to="cases.casestatus"),
        ),
        migrations.AlterField(
            model_name="case",
            name="customer",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="cases", to="contacts.customer"),
        ),
        migrations.AlterField(
            model_name="case",
            name="topic",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="cases", to="cases.topic"),
        ),
        migrations.AlterField(
            model_name="case",
            name="case_type",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="cases", to="cases.casetype"),
        ),
        migrations.AlterField(
            model_name="case",
            name="line_of_business",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="cases", to="accounts.lineofbusiness"),
        ),
        migrations.AddIndex(model_name="case", index=models.Index(fields=["customer", "case_type"], name="case_customer_type")),
        migrations.AddIndex(model_name="case", index=models.Index(fields=["line_of_business", "id"], name="case_line_id")),
        migrations.AddIndex(model_name="case", index=models.Index(fields=["line_of_business", "status", "id"], name="case_line_status_id")),
        migrations.AddIndex(model_name="case", index=models.Index(fields=["line_of_business", "case_type", "id"], name="case_line_type_id")),
        migrations.AddIndex(model_name="case", index=models.Index(fields=["status"], name="case_status")),
        migrations.AddIndex(model_name="case", index=models.Index(fields=["topic"], name="case_topic")),
        migrations.CreateModel(
            name="CaseHandler",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("first_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("case", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="handlers", to="cases.case")),
                ("user", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="cases_handled", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("case", "user"), name="case_handler_unique")],
                "indexes": [models.Index(fields=["user", "case"], name="case_handler_user_case")],
            },
        ),
        migrations.AddIndex(model_name="case", index=models.Index(fields=["line_of_business", "created_at"], name="case_line_created")),
        migrations.AddIndex(model_name="case", index=models.Index(fields=["created_at"], name="case_created")),
        migrations.RunPython(handlers_from_participants, migrations.RunPython.noop),
    ]
