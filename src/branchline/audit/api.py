"""The audit trail for integrations: a SIEM pulls it with a technical account's token
(scope `audit:read`), in chain order, each record with its hash (as `manage.py audit_export`)."""
from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from branchline.accounts.auth import IntegrationBearer
from branchline.core.errors import InvalidInput
from branchline.core.schemas import ErrorOut

from .selectors import records_after

router = Router()


class AuditPage(Schema):
    records: list[dict] = Field(description="Audit records after `after_seq`, in chain order, with their hash")
    last_seq: int = Field(description="Pass it as after_seq for the next page")


class AuditQuery(Schema):
    after_seq: int = Field(0, ge=0, description="The last seq you already have")
    limit: int = Field(500, description="1 to AUDIT_EXPORT_PAGE_MAX (1000)")


@router.get("/integrations/audit-records", auth=IntegrationBearer("audit:read"),
            response={200: AuditPage, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}, tags=["integrations"],
            summary="The audit trail after a seq (technical accounts with scope audit:read)")
def integration_audit_records(request, query: Query[AuditQuery]):
    maximum = settings.BRANCHLINE["AUDIT_EXPORT_PAGE_MAX"]
    if not 1 <= query.limit <= maximum:
        raise InvalidInput(_("limit must be between 1 and %(max)s.") % {"max": maximum}, code="limit_invalid")
    records = []
    for record in records_after(query.after_seq, batch=query.limit):
        records.append(record)
        if len(records) == query.limit:
            break
    return {"records": records, "last_seq": records[-1]["seq"] if records else query.after_seq}
