"""The wire shapes of cases (docs/protocol.md §11), shared by the Cases module's API and the
conversation's staff view."""
from datetime import datetime

from django.utils.translation import gettext
from ninja import Field, Schema

from branchline.contacts.schemas import CustomerRef
from branchline.core.wire import timestamp


class Ref(Schema):
    id: int
    name: str


class CaseStatusRef(Ref):
    resolved: bool = Field(description="A case in this status is resolved; otherwise it is open")


class CaseStatusOut(CaseStatusRef):
    initial: bool = Field(description="New cases start in this status")


class CaseRow(Schema):
    id: int
    customer: CustomerRef = Field(description='"Customer" for a guest')
    topic: Ref = Field(description="The subject")
    case_type: Ref
    status: CaseStatusRef
    line_of_business: Ref
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None


class CasePage(Schema):
    cases: list[CaseRow] = Field(description="Newest first")
    next_before_id: int | None = Field(description="More cases exist: ask again with before_id set to this")


class TopicOption(Ref):
    case_type: Ref


def case_status_ref(status) -> dict:
    return {"id": status.id, "name": status.name, "resolved": status.is_resolved}


# What a CaseRow reads: the Cases module reads them as one statement's values (cases/listing.py;
# model instances for 50 cases and their related rows cost most of a page's time).
ROW_FIELDS = ("id", "customer_id", "customer__name", "customer__is_authenticated", "topic_id", "case_type_id",
              "status_id", "line_of_business_id", "created_at", "updated_at", "resolved_at", "topic__name",
              "case_type__name", "status__name", "status__is_resolved", "line_of_business__name")


def case_row_of_values(row: dict) -> dict:
    """A CaseRow, ready to send (timestamps as the API renders them), from ROW_FIELDS values."""
    authenticated = row["customer__is_authenticated"]
    return {
        "id": row["id"],
        # As Customer.display_name: a guest is "Customer", whatever name they typed.
        "customer": {"id": row["customer_id"], "name": (authenticated and row["customer__name"]) or gettext("Customer"),
                     "authenticated": authenticated},
        "topic": {"id": row["topic_id"], "name": row["topic__name"]},
        "case_type": {"id": row["case_type_id"], "name": row["case_type__name"]},
        "status": {"id": row["status_id"], "name": row["status__name"], "resolved": row["status__is_resolved"]},
        "line_of_business": {"id": row["line_of_business_id"], "name": row["line_of_business__name"]},
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
        "resolved_at": timestamp(row["resolved_at"]),
    }


def case_row(case) -> dict:
    """A case as the Cases module lists it (read with cases.selectors.RELATED)."""
    return case_row_of_values({field: _path(case, field) for field in ROW_FIELDS})


def _path(obj, field: str):
    for part in field.split("__"):
        obj = getattr(obj, part)
    return obj
