"""The audit trail: one append-only record per state change, from the domain events.

Records form a hash chain (chain.py): editing, inserting or deleting one is evident to
`manage.py audit_verify`. Database triggers refuse updates, and on PostgreSQL deletes except
while the retention task prunes (migration 0002, actions.audit_prune). Who acted is copied, not referenced: a record
outlives the user, the customer and the conversation it names."""
from django.db import models
from django.utils import timezone

from .chain import GENESIS


class AuditChain(models.Model):
    """The chain's head, one row (id 1): the newest record's seq and hash. Appending locks
    it, so records join the chain one at a time, in seq order."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS)
    mac = models.CharField(max_length=64, blank=True)  # chain.head_mac(last_seq, last_hash)
    pruning = models.BooleanField(default=False)  # set only inside the retention task's transaction
    # Where the chain starts since the oldest records were pruned: the last pruned record's
    # seq and hash (0 and GENESIS before any pruning), with their own MAC (chain.start_mac).
    start_seq = models.BigIntegerField(default=0)
    start_hash = models.CharField(max_length=64, default=GENESIS)
    start_mac = models.CharField(max_length=64, blank=True)
    # Set by an administrator: records older than this many days are pruned (None: kept forever).
    retention_days = models.PositiveIntegerField(null=True, blank=True)


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
    # The chain: this record's place, the hash of the one before it, and its own (chain.py).
    seq = models.BigIntegerField(unique=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "occurred_at"]),
            models.Index(fields=["actor_kind", "actor_id", "occurred_at"]),
            models.Index(fields=["occurred_at"]),
        ]
