"""Existing cases keep their meaning: every line of business gets the default statuses, "open"
becomes the line's initial status and "resolved" its "Resolved"; the agents who took part in a
case's conversations become its handlers. Its own migration: see 0002."""
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


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0002_case_statuses_handlers"),
    ]

    operations = [
        migrations.RunPython(statuses_for_every_line, migrations.RunPython.noop),
    ]
