"""Case types, topics (the "subjects" customers pick), case statuses and cases.

Every conversation belongs to a case from its first message. The workflow that changes a
case from a conversation (status, topic, outbound) lives with conversations
(conversations/actions/cases.py); docs/adr/0018."""
from django.conf import settings
from django.core.exceptions import ValidationError
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
    # Where its new conversations wait (routing.Queue); none: its line's default queue.
    queue = models.ForeignKey("routing.Queue", on_delete=models.PROTECT, null=True, blank=True, related_name="topics",
                              help_text=_("Where its new conversations wait. Empty: the line's default queue."))

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.queue_id and self.case_type_id and self.queue.line_of_business_id != self.case_type.line_of_business_id:
            raise ValidationError({"queue": _("Choose a queue of the case type's line of business.")})


class CaseStatus(models.Model):
    """One of a line of business's case statuses, defined by its administrators. Each is
    open or resolved; exactly one open status is where new cases start (`is_initial`)."""

    line_of_business = models.ForeignKey("accounts.LineOfBusiness", on_delete=models.PROTECT,
                                         related_name="case_statuses")
    name = models.CharField(_("name"), max_length=80)
    is_resolved = models.BooleanField(_("resolved"), default=False,
                                      help_text=_("A case in this status is resolved; otherwise it is open."))
    is_initial = models.BooleanField(_("new cases start here"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("case status")
        verbose_name_plural = _("case statuses")
        constraints = [
            models.UniqueConstraint(fields=["line_of_business", "name"], name="case_status_unique_name"),
            models.UniqueConstraint(fields=["line_of_business"], condition=models.Q(is_initial=True),
                                    name="case_status_one_initial"),
            models.CheckConstraint(condition=~models.Q(is_initial=True, is_resolved=True),
                                   name="case_status_initial_is_open"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        """New cases start in an open status: a line keeps at least one."""
        if self.is_resolved and self.line_of_business_id and not (
                CaseStatus.objects.filter(line_of_business_id=self.line_of_business_id, is_resolved=False)
                .exclude(pk=self.pk).exists()):
            raise ValidationError({"is_resolved": _("A line of business keeps at least one open status.")})
        if self.is_resolved and self.is_initial:
            raise ValidationError({"is_initial": _("New cases start in an open status.")})


class Case(models.Model):
    """A customer's matter with the bank: every conversation belongs to one. Its status is
    one of its line's; `resolved_at` is when it last became resolved (None while open)."""

    customer = models.ForeignKey("contacts.Customer", on_delete=models.PROTECT, related_name="cases", db_index=False)
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="cases", db_index=False)
    case_type = models.ForeignKey(CaseType, on_delete=models.PROTECT, related_name="cases", db_index=False)
    line_of_business = models.ForeignKey("accounts.LineOfBusiness", on_delete=models.PROTECT, related_name="cases",
                                         db_index=False)
    status = models.ForeignKey(CaseStatus, on_delete=models.PROTECT, related_name="cases", db_index=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "case_type"], name="case_customer_type"),
            # The Cases module pages newest first (keyset on id) within a line, optionally by
            # status or case type; an agent's own cases come through CaseHandler.
            models.Index(fields=["line_of_business", "id"], name="case_line_id"),
            models.Index(fields=["line_of_business", "status", "id"], name="case_line_status_id"),
            models.Index(fields=["line_of_business", "case_type", "id"], name="case_line_type_id"),
            # "Created from / to": a range of days, then its newest cases.
            models.Index(fields=["line_of_business", "created_at"], name="case_line_created"),
            models.Index(fields=["created_at"], name="case_created"),  # an agent's, in a range of days
            models.Index(fields=["status"], name="case_status"),
            models.Index(fields=["topic"], name="case_topic"),
        ]


class CaseHandler(models.Model):
    """A member of staff who was or is assigned to one of the case's conversations: the
    cases an agent sees in the Cases module."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="handlers", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases_handled",
                             db_index=False)
    first_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="case_handler_unique")]
        indexes = [models.Index(fields=["user", "case"], name="case_handler_user_case")]
