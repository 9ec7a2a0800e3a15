"""Case statuses per line of business (open or resolved), the case's status as one of them,
when it was resolved and last changed, and who handled it (docs/adr/0018).

Existing cases keep their meaning: "open" becomes the line's initial status, "resolved" its
"Resolved"; the agents who took part in a case's conversations become its handlers."""
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

# As cases.actions.DEFAULT_STATUSES was when this migration was written: (name, resolved, initial).
DEFAULT_STATUSES = [("Open", False, True), ("In progress", False, False), ("Waiting for the customer", False, False),
                    ("Resolved", True, False)]


def statuses_for_every_line(apps, schema_editor):
    LineOfBusiness = apps.get_model("accounts", "LineOfBusiness")
    CaseStatus = apps.get_model("cases", "CaseStatus")
    Case = apps.get_model("cases", "Case")
    for line in LineOfBusiness.objects.all():
        made = {name: CaseStatus.objects.create(line_of_business=line, name=name, is_resolved=resolved,
                                                is_initial=initial, position=position)
                for position, (name, resolved, initial) in enumerate(DEFAULT_STATUSES)}
        cases = Case.objects.filter(line_of_business=line)
        cases.filter(old_status="resolved").update(status_ref=made["Resolved"], resolved_at=models.F("created_at"))
        cases.exclude(old_status="resolved").update(status_ref=made["Open"])


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
        ("accounts", "0011_staff_identity"),
        ("cases", "0001_initial"),
        ("contacts", "0001_initial"),
        ("conversations", "0004_customer_signed_in_line"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CaseStatus",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=80, verbose_name="name")),
                ("is_resolved", models.BooleanField(default=False, help_text="A case in this status is resolved; otherwise it is open.", verbose_name="resolved")),
                ("is_initial", models.BooleanField(default=False, verbose_name="new cases start here")),
                ("position", models.PositiveSmallIntegerField(default=0, verbose_name="position")),
                ("line_of_business", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="case_statuses", to="accounts.lineofbusiness")),
            ],
            options={"ordering": ["position", "id"], "verbose_name": "case status", "verbose_name_plural": "case statuses"},
        ),
        migrations.AddConstraint(
            model_name="casestatus",
            constraint=models.UniqueConstraint(fields=("line_of_business", "name"), name="case_status_unique_name"),
        ),
        migrations.AddConstraint(
            model_name="casestatus",
            constraint=models.UniqueConstraint(condition=models.Q(("is_initial", True)), fields=("line_of_business",), name="case_status_one_initial"),
        ),
        migrations.AddConstraint(
            model_name="casestatus",
            constraint=models.CheckConstraint(condition=models.Q(("is_initial", True), ("is_resolved", True), _negated=True), name="case_status_initial_is_open"),
        ),
        migrations.RemoveIndex(model_name="case", name="cases_case_custome_a915c6_idx"),
        migrations.RenameField(model_name="case", old_name="status", new_name="old_status"),
        migrations.AddField(
            model_name="case",
            name="status_ref",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="cases.casestatus"),
        ),
        migrations.AddField(model_name="case", name="resolved_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(model_name="case", name="updated_at", field=models.DateTimeField(default=django.utils.timezone.now)),
        migrations.RunPython(statuses_for_every_line, migrations.RunPython.noop),
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
        migrations.RunPython(handlers_from_participants, migrations.RunPython.noop),
    ]
