"""Writes to the audit trail: appending one record at a time onto the hash chain, and the
retention that prunes its oldest records (docs/adr/0012)."""
import hashlib
import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from branchline.accounts.permissions import require_administrator
from branchline.core import ratelimit
from branchline.core.errors import InvalidInput
from branchline.events import Actor, publish

from .chain import GENESIS, HASHED, Finding, head_mac, record_hash, start_holds, start_mac, walk
from .events import AuditPruned, AuditRetentionSet, AuditTrailRead
from .models import AuditChain, AuditRecord

log = logging.getLogger(__name__)
MAX_DAYS = 36500
PRUNE_BATCH = 10_000


def audit_record_event(*, record: dict) -> AuditRecord:
    """Append the record of one domain event (events.DomainEvent.record()). Idempotent on
    the event's id: a retried task adds nothing."""
    actor, subject = record["actor"], record["subject"]
    return _append(event_id=record["event_id"], fields={
        "event": record["event"],
        "occurred_at": parse_datetime(record["occurred_at"]),
        "actor_kind": actor["kind"],
        "actor_id": actor["id"],
        "actor_name": actor["name"][:200],
        "address": (actor["address"] or "")[:64],
        "subject_type": subject["type"] or "",
        "subject_id": subject["id"],
        "data": record["data"],
    })


def _append(*, event_id: str, fields: dict) -> AuditRecord:
    with transaction.atomic():
        # The head's row lock orders appends; asking for the event after taking it makes a
        # retried task that races its first run find the record instead of a conflict.
        head = _locked_head()
        existing = AuditRecord.objects.filter(event_id=event_id).first()
        if existing is not None:
            return existing
        entry = AuditRecord(event_id=event_id, seq=head.last_seq + 1, prev_hash=head.last_hash, **fields)
        entry.hash = record_hash(_as_stored(entry))
        entry.save(force_insert=True)
        AuditChain.objects.filter(pk=1).update(last_seq=entry.seq, last_hash=entry.hash,
                                               mac=head_mac(entry.seq, entry.hash))
        return entry


def _locked_head() -> AuditChain:
    """The chain's head, locked. Migration 0002 creates it; an empty database (a flushed test
    database) gets a new one. Records without a head mean someone removed it: refuse, and
    let audit_verify say so, rather than start a second chain over the evidence."""
    head = AuditChain.objects.select_for_update().filter(pk=1).first()
    if head is None:
        if AuditRecord.objects.exists():
            raise RuntimeError("the audit chain's head is missing: run manage.py audit_verify")
        AuditChain.objects.get_or_create(pk=1, defaults={"mac": head_mac(0, GENESIS)})
        head = AuditChain.objects.select_for_update().get(pk=1)
    return head


def _as_stored(entry: AuditRecord) -> AuditRecord:
    """The values as the database will give them back (an id given as "7" reads back as 7):
    the hash is checked later against what is read."""
    for name in HASHED:
        field = AuditRecord._meta.get_field(name)
        setattr(entry, field.attname, field.to_python(getattr(entry, field.attname)))
    return entry


def audit_retention_set(*, principal, retention_days: int | None) -> int | None:
    """How long the audit trail is kept, in days (None: for ever); at least
    AUDIT_RETENTION_MIN_DAYS, which the deployment sets and administrators cannot lower.
    Administrators only; audited."""
    require_administrator(principal)
    minimum = settings.BRANCHLINE["AUDIT_RETENTION_MIN_DAYS"]
    if retention_days is not None and not (isinstance(retention_days, int) and minimum <= retention_days <= MAX_DAYS):
        raise InvalidInput(_("Keep the audit trail between %(min)s and %(max)s days, or for ever (null).") % {
            "min": minimum, "max": MAX_DAYS}, code="retention_invalid")
    with transaction.atomic():
        head = _locked_head()
        previous = head.retention_days
        AuditChain.objects.filter(pk=1).update(retention_days=retention_days)
        publish(AuditRetentionSet(actor=Actor.of(principal), retention_days=retention_days, previous=previous))
    return retention_days


def audit_prune(*, now=None, batch: int = PRUNE_BATCH) -> int:
    """The retention task: delete the oldest records, of events that occurred longer ago than
    the retention allows (never less than AUDIT_RETENTION_MIN_DAYS, whatever the database
    says), at most `batch` at a time (call again while it returns `batch`). Only a stretch
    that verifies is deleted: pruning must never turn tampering into a clean start. The
    chain's start moves to the last one deleted, and an `audit.pruned` record says so, in the
    same transaction. Returns how many were deleted."""
    now = now or timezone.now()
    with transaction.atomic():
        head = _locked_head()
        if head.retention_days is None:
            return 0
        days = max(head.retention_days, settings.BRANCHLINE["AUDIT_RETENTION_MIN_DAYS"])
        older_than = now - timedelta(days=days)
        stretch = _prunable_stretch(head, older_than, batch)
        if not stretch:
            return 0
        through = stretch[-1]
        AuditChain.objects.filter(pk=1).update(pruning=True)  # the delete trigger lets only this through
        count, _deleted = AuditRecord.objects.filter(seq__lte=through.seq).delete()
        AuditChain.objects.filter(pk=1).update(pruning=False, start_seq=through.seq, start_hash=through.hash,
                                               start_mac=start_mac(through.seq, through.hash))
        audit_record_event(record=AuditPruned(
            actor=Actor("system", name="audit retention"), through_seq=through.seq, through_hash=through.hash,
            count=count, retention_days=days, older_than=older_than.isoformat()).record())
    return count


def audit_prune_all(*, max_seconds: float | None = None) -> int:
    """Prune batch after batch until nothing is left to prune (or `max_seconds` have passed:
    the server processes' turn is bounded, the next turn carries on). Returns how many."""
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    total = 0
    while (count := audit_prune()) == PRUNE_BATCH and (deadline is None or time.monotonic() < deadline):
        total += count
    return total + count


def _prunable_stretch(head: AuditChain, older_than, batch: int) -> list[AuditRecord]:
    """The chain's oldest stretch (at most `batch` records) whose events all occurred before
    `older_than`, read along seq, the chain's order; empty when there is none, or when it
    does not verify from the chain's signed start (then nothing is pruned, and it is logged
    for `manage.py audit_verify` to explain)."""
    chain = AuditRecord.objects.filter(seq__gt=head.start_seq, seq__lte=head.last_seq).order_by("seq")
    oldest = chain.values("occurred_at").first()
    if oldest is None or oldest["occurred_at"] >= older_than:
        return []  # the usual answer, in one row
    stretch = []
    for record in chain[:batch]:
        if record.occurred_at >= older_than:
            break
        stretch.append(record)
    findings = [] if start_holds(head.start_seq, head.start_hash, head.start_mac) else [Finding(head.start_seq, "")]
    walk(stretch, head.start_seq, head.start_hash, findings)
    if findings:
        log.error("the audit trail does not verify before seq %s: nothing pruned (run manage.py audit_verify)",
                  findings[0].seq)
        return []
    return stretch


def audit_trail_read(*, principal, filters: dict) -> None:
    """Record that an auditor or administrator read the trail with `filters` (JSON-able),
    at most once per reader and filters per READ_AUDIT_SECONDS: paging back through one
    search is one fact, not one record per page."""
    shown = {name: value for name, value in sorted(filters.items()) if value is not None}
    digest = hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()[:32]
    if ratelimit.within(f"audit-read:{principal.id}:{digest}", settings.BRANCHLINE["READ_AUDIT_SECONDS"]):
        publish(AuditTrailRead(actor=Actor.of(principal), filters=shown))
