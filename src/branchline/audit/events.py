"""What happens to the audit trail itself (the public contract of this app)."""
from dataclasses import dataclass

from branchline.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class AuditRetentionSet(DomainEvent):
    """An administrator set how long the audit trail is kept (None: for ever)."""

    name = "audit.retention_set"

    retention_days: int | None
    previous: int | None


@dataclass(frozen=True, kw_only=True)
class AuditPruned(DomainEvent):
    """The retention task deleted the oldest records, up to and including `through_seq`
    (whose hash was `through_hash`): the chain now starts there. Recorded by the pruning
    itself, in the same transaction (not through the outbox), so no pruning goes unrecorded."""

    name = "audit.pruned"

    through_seq: int
    through_hash: str
    count: int
    retention_days: int
    older_than: str


@dataclass(frozen=True, kw_only=True)
class AuditTrailRead(DomainEvent):
    """A member of staff read the audit trail, with these filters (who watches the
    watchers). At most once per reader and filters per READ_AUDIT_SECONDS."""

    name = "audit.read"

    filters: dict
