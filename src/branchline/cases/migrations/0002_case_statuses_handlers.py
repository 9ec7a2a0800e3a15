"""Case statuses per line of business (open or resolved), and beside the old status string the
case's status as one of them, when it was resolved and last changed (docs/adr/0018). Three
migrations, not one: PostgreSQL refuses to alter a table in the transaction that updated its
rows' deferred foreign keys ("pending trigger events"), so the data step has its own (0003)."""
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models



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
    ]
