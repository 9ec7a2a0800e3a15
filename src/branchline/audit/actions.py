"""Writes to the audit trail: appending only, one record at a time onto the hash chain."""
from django.db import transaction
from django.utils.dateparse import parse_datetime

from .chain import GENESIS, HASHED, head_mac, record_hash
from .models import AuditChain, AuditRecord


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
