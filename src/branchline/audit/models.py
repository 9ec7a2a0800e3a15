"""The audit trail: one append-only record per state change, from the domain events.

Nothing updates or deletes a record (the identity issue adds a hash chain that makes
tampering evident, retention and export). Who acted is copied, not referenced: a record
outlives the user, the customer and the conversation it names."""
from django.db import models
from django.utils import timezone


class AuditRecord(models.Model):
    # The event's own id: a task that runs twice (a worker killed after writing, before
    # marking the task done) still leaves one record.
    event_id = models.CharField(max_length=32, unique=True)
    event = models.CharField(max_length=64)  # e.g. conversation.transferred
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=16)  # customer | staff | system
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=64, blank=True)  # the client's address, when there was one
    subject_type = models.CharField(max_length=32, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "occurred_at"]),
            models.Index(fields=["actor_kind", "actor_id", "occurred_at"]),
            models.Index(fields=["occurred_at"]),
        ]
