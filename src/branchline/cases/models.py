"""Case types, topics (the "subjects" customers pick) and cases.

Every conversation belongs to a case from its first message; the Cases issue builds the
case workflow (statuses, timeline, role-scoped index) on these."""
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CaseType(models.Model):
    line_of_business = models.ForeignKey("accounts.LineOfBusiness", on_delete=models.PROTECT, related_name="case_types")
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["line_of_business", "name"], name="case_type_unique_name")]

    def __str__(self):
        return self.name


class Topic(models.Model):
    case_type = models.ForeignKey(CaseType, on_delete=models.PROTECT, related_name="topics")
    name = models.CharField(_("name"), max_length=120, unique=True)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class Case(models.Model):
    customer = models.ForeignKey("contacts.Customer", on_delete=models.PROTECT, related_name="cases")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="cases")
    case_type = models.ForeignKey(CaseType, on_delete=models.PROTECT, related_name="cases")
    line_of_business = models.ForeignKey("accounts.LineOfBusiness", on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["customer", "status"])]
