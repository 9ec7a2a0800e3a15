"""Writes to the audit trail: appending only."""
from django.utils.dateparse import parse_datetime

from .models import AuditRecord


def audit_record_event(*, record: dict) -> AuditRecord:
    """Append the record of one domain event (events.DomainEvent.record()). Idempotent on
    the event's id: a retried task adds nothing."""
    actor, subject = record["actor"], record["subject"]
    entry, _created = AuditRecord.objects.get_or_create(event_id=record["event_id"], defaults={
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
    return entry
