"""The wire shapes of cases (docs/protocol.md §11), shared by the Cases module's API and the
conversation's staff view."""
from datetime import datetime

from ninja import Field, Schema

from branchline.contacts.schemas import CustomerRef


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


def case_row(case) -> dict:
    """A case as the Cases module lists it (read with cases.selectors.RELATED)."""
    customer = case.customer
    return {
        "id": case.id,
        "customer": {"id": customer.id, "name": customer.display_name, "authenticated": customer.is_authenticated},
        "topic": {"id": case.topic_id, "name": case.topic.name},
        "case_type": {"id": case.case_type_id, "name": case.case_type.name},
        "status": case_status_ref(case.status),
        "line_of_business": {"id": case.line_of_business_id, "name": case.line_of_business.name},
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "resolved_at": case.resolved_at,
    }
