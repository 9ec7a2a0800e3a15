"""The audit trail over the API: for auditors and administrators in the console (newest
first, with filters), and for integrations: a SIEM pulls it with a technical account's token
(scope `audit:read`), in chain order, each record with its hash (as `manage.py audit_export`)."""
from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from branchline.accounts.auth import IntegrationBearer, staff_auth
from branchline.accounts.permissions import require_audit_reader
from branchline.core.errors import DomainError, InvalidInput
from branchline.core.schemas import ErrorOut
from branchline.core.wire import timestamp

from .actions import audit_retention_set, audit_trail_read
from .selectors import records_after, records_page, retention_state

router = Router()


class Pruned(DomainError):
    status = 410
    code = "pruned"


class AuditPage(Schema):
    records: list[dict] = Field(description="Audit records after `after_seq`, in chain order, with their hash")
    last_seq: int = Field(description="Pass it as after_seq for the next page")


class AuditQuery(Schema):
    after_seq: int = Field(0, ge=0, description="The last seq you already have")
    limit: int = Field(500, description="1 to AUDIT_EXPORT_PAGE_MAX (1000)")


@router.get("/integrations/audit-records", auth=IntegrationBearer("audit:read"),
            response={200: AuditPage, 401: ErrorOut, 403: ErrorOut, 410: ErrorOut, 422: ErrorOut},
            tags=["integrations"],
            summary="The audit trail after a seq (technical accounts with scope audit:read)")
def integration_audit_records(request, query: Query[AuditQuery]):
    maximum = settings.BRANCHLINE["AUDIT_EXPORT_PAGE_MAX"]
    if not 1 <= query.limit <= maximum:
        raise InvalidInput(_("limit must be between 1 and %(max)s.") % {"max": maximum}, code="limit_invalid")
    pruned_through = retention_state()["pruned_through_seq"]
    if query.after_seq < pruned_through:
        # A SIEM that asks for records the retention already deleted has a gap: say so.
        raise Pruned(_("Records up to seq %(seq)s were pruned by the retention; continue after it.") % {
            "seq": pruned_through}, code="pruned")
    records = []
    for record in records_after(query.after_seq, batch=query.limit):
        records.append(record)
        if len(records) == query.limit:
            break
    return {"records": records, "last_seq": records[-1]["seq"] if records else query.after_seq}


class AuditRecordOut(Schema):
    seq: int
    event: str
    occurred_at: str
    actor_kind: str
    actor_id: int | None
    actor_name: str
    address: str
    subject_type: str
    subject_id: int | None
    data: dict


class AuditRecordsOut(Schema):
    records: list[AuditRecordOut]
    has_more: bool = Field(description="Pass the last record's seq as before_seq for the next page")


class AuditFilter(Schema):
    event: str | None = Field(None, max_length=64, description="e.g. customer.data_read")
    actor_kind: str | None = Field(None, max_length=16, description="customer, staff, integration or system")
    actor_id: int | None = Field(None, ge=1)
    subject_type: str | None = Field(None, max_length=32, description="e.g. conversation, customer, api_token")
    subject_id: int | None = Field(None, ge=1)
    since: datetime | None = Field(None, description="occurred at or after")
    until: datetime | None = Field(None, description="occurred before")
    before_seq: int | None = Field(None, ge=1)
    limit: int = Field(50, ge=1, le=200)


@router.get("/staff/audit-records", auth=staff_auth,
            response={200: AuditRecordsOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}, tags=["staff"],
            summary="The audit trail, newest first, with filters (auditors and administrators)")
def staff_audit_records(request, query: Query[AuditFilter]):
    require_audit_reader(request.principal)
    filters = {name: value for name in ("event", "actor_kind", "actor_id", "subject_type", "subject_id")
               if (value := getattr(query, name)) is not None}
    # Who reads the trail is in it too: the search, not every page of it.
    audit_trail_read(principal=request.principal, filters={
        **filters, "since": query.since and timestamp(query.since), "until": query.until and timestamp(query.until)})
    if query.since:
        filters["occurred_at__gte"] = query.since
    if query.until:
        filters["occurred_at__lt"] = query.until
    rows = records_page(filters=filters, before_seq=query.before_seq, limit=query.limit + 1)
    return {"records": [{**row, "occurred_at": timestamp(row["occurred_at"])} for row in rows[:query.limit]],
            "has_more": len(rows) > query.limit}


class RetentionOut(Schema):
    retention_days: int | None = Field(description="Records of events older than this are pruned; null: kept for ever")
    minimum_days: int = Field(description="The shortest retention this deployment allows "
                                          "(BRANCHLINE_AUDIT_RETENTION_MIN_DAYS)")
    pruned_through_seq: int = Field(description="The chain starts after this seq (0: nothing pruned yet)")


class RetentionIn(Schema):
    retention_days: int | None = Field(description="minimum_days to 36500, or null to keep the trail for ever")


def _retention() -> dict:
    head = retention_state()
    return {**head, "minimum_days": settings.BRANCHLINE["AUDIT_RETENTION_MIN_DAYS"]}


# Read beside the trail (the console's surface, where auditors are), set in the administration.
@router.get("/staff/audit-retention", auth=staff_auth, response={200: RetentionOut, 401: ErrorOut, 403: ErrorOut},
            tags=["staff"], summary="How long the audit trail is kept (auditors and administrators)")
def staff_audit_retention(request):
    require_audit_reader(request.principal)
    return _retention()


@router.put("/admin/audit-retention", auth=staff_auth,
            response={200: RetentionOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}, tags=["admin"],
            summary="Set how long the audit trail is kept (administrators; audited as audit.retention_set). The "
                    "retention task prunes older records within AUDIT_PRUNE_EVERY_SECONDS, recording audit.pruned")
def admin_audit_retention_set(request, payload: RetentionIn):
    audit_retention_set(principal=request.principal, retention_days=payload.retention_days)
    return _retention()
