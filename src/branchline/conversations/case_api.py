"""The case workflow and the Cases module in the JSON API (docs/protocol.md §11): here
rather than in the cases app because a case's timeline and its changes are its
conversations' (cases sits below conversations in the layers)."""
from datetime import date, datetime

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from branchline.accounts.auth import staff_auth
from branchline.cases import actions as case_actions
from branchline.cases import listing
from branchline.cases import selectors as cases
from branchline.cases.schemas import (
    CasePage,
    CaseRow,
    CaseStatusOut,
    Ref,
    TopicOption,
    case_row,
    case_row_of_values,
    case_status_ref,
)
from branchline.core.errors import InvalidInput, NotFound
from branchline.core.ids import MAX_ID
from branchline.core.schemas import ErrorOut, already_shaped

from . import actions
from .api import page_size, staff_view
from .models import Conversation, Message
from .payloads import message_for_staff
from .schemas import StaffConversationOut, StaffMessageOut

router = Router()
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}
PAGE_MAX = 100


def _own_line(principal) -> int:
    if not principal.line_of_business_id:
        raise NotFound(_("You belong to no line of business."), code="line_not_found")
    return principal.line_of_business_id


@router.get("/staff/case-statuses", auth=staff_auth, response={200: list[CaseStatusOut], **ERRORS}, tags=["cases"],
            summary="Your line of business's case statuses, in their order")
def staff_case_statuses(request):
    line_id = _own_line(request.principal)
    case_actions.case_statuses_ensure(line_id)  # a line created since has its defaults from now on
    return [{**case_status_ref(s), "initial": s.is_initial} for s in cases.case_statuses(line_id)]


@router.get("/staff/topics", auth=staff_auth, response={200: list[TopicOption], **ERRORS}, tags=["cases"],
            summary="Your line of business's active topics, each with its case type")
def staff_topics(request):
    return [{"id": t.id, "name": t.name, "case_type": {"id": t.case_type_id, "name": t.case_type.name}}
            for t in cases.topics_of_line(_own_line(request.principal))]


@router.get("/staff/line-handlers", auth=staff_auth, response={200: list[Ref], **ERRORS}, tags=["cases"],
            summary="Who handles cases in your line of business (agents and supervisors)")
def staff_line_handlers(request):
    return cases.line_handlers(_own_line(request.principal))


ID = {"ge": 1, "le": MAX_ID}
# Searched text: no NUL (PostgreSQL refuses it in a query), at most 100 characters.
SEARCH = {"max_length": 100, "pattern": r"^[^\x00]*$"}


class CasesQuery(Schema):
    status_id: int | None = Field(None, **ID)
    resolved: bool | None = Field(None, description="Only open (false) or only resolved (true) cases")
    case_type_id: int | None = Field(None, **ID)
    tag_id: int | None = Field(None, description="One of its conversations carries this tag", **ID)
    agent_id: int | None = Field(None, description="Cases this member of staff was or is assigned to", **ID)
    created_from: date | None = None
    created_to: date | None = Field(None, description="Inclusive")
    q: str = Field("", description='The customer\'s name (signed-in customers), or "#<case id>"', **SEARCH)
    before_id: int | None = Field(None, description="From next_before_id of the previous page", **ID)
    limit: int = Field(50, description=f"1 to {PAGE_MAX}")


@router.get("/staff/cases", auth=staff_auth, response={200: CasePage, **ERRORS}, tags=["cases"],
            summary="The Cases module: the cases you may see, newest first")
def staff_cases(request, query: Query[CasesQuery]):
    if not 1 <= query.limit <= PAGE_MAX:
        raise InvalidInput(_("limit must be between 1 and %(max)s.") % {"max": PAGE_MAX}, code="limit_invalid")
    filters = listing.CaseFilters(status_id=query.status_id, case_type_id=query.case_type_id, agent_id=query.agent_id,
                                created_from=query.created_from, created_to=query.created_to, q=query.q,
                                resolved=query.resolved, tag_id=query.tag_id)
    found = listing.cases_page(request.principal, filters, before_id=query.before_id, limit=query.limit + 1)
    return already_shaped(case_page_body(found, query.limit))


def case_page_body(found: list[dict], limit: int) -> dict:
    """A CasePage from up to limit + 1 rows of values (the extra one says there is more)."""
    page = found[:limit]
    return {"cases": [case_row_of_values(row) for row in page],
            "next_before_id": page[-1]["id"] if len(found) > limit else None}


class CaseConversationRef(Schema):
    id: int
    state: str
    topic: Ref
    outbound: bool
    assigned_agent: Ref | None
    created_at: datetime
    ended_at: datetime | None


class CaseOut(CaseRow):
    handlers: list[Ref] = Field(description="Staff who were or are assigned to its conversations, first first")
    conversations: list[CaseConversationRef] = Field(description="Oldest first")


@router.get("/staff/cases/{case_id}", auth=staff_auth, response={200: CaseOut, **ERRORS}, tags=["cases"],
            summary="A case: its row, who handled it and its conversations")
def staff_case(request, case_id: int):
    case = cases.access_case(request.principal, case_id)
    conversations = (Conversation.objects.filter(case_id=case.id).select_related("topic", "assigned_agent")
                     .order_by("id"))
    return {**case_row(case), "handlers": cases.case_handler_names(case.id),
            "conversations": [{"id": c.id, "state": c.state, "topic": {"id": c.topic_id, "name": c.topic.name},
                               "outbound": c.outbound, "created_at": c.created_at, "ended_at": c.ended_at,
                               "assigned_agent": ({"id": c.assigned_agent_id, "name": c.assigned_agent.display_name}
                                                  if c.assigned_agent_id else None)}
                              for c in conversations]}


class TimelineQuery(Schema):
    after_id: int | None = Field(None, description="Items after this message id", ge=0, le=MAX_ID)
    limit: int = 50


class TimelinePage(Schema):
    items: list[StaffMessageOut] = Field(description="Oldest first: every conversation's messages, notes and lines")
    has_more: bool = Field(description="Later items exist: ask again with after_id")


@router.get("/staff/cases/{case_id}/timeline", auth=staff_auth, response={200: TimelinePage, **ERRORS},
            tags=["cases"], summary="A case's whole timeline, oldest first")
def staff_case_timeline(request, case_id: int, query: Query[TimelineQuery]):
    limit = page_size(request.principal, query.limit)
    case = cases.access_case(request.principal, case_id)
    items = Message.objects.filter(conversation__case_id=case.id).select_related("author", "subject")
    if query.after_id is not None:
        items = items.filter(id__gt=query.after_id)
    found = list(items.order_by("id")[:limit + 1])
    latest = Conversation.objects.filter(case_id=case.id).order_by("-id").values_list("id", flat=True).first()
    actions.customer_data_read(principal=request.principal, customer_id=case.customer_id,
                               conversation_id=latest or 0, what="case")
    return {"items": [message_for_staff(m) for m in found[:limit]], "has_more": len(found) > limit}


class StatusIn(Schema):
    status_id: int


@router.post("/staff/cases/{case_id}/status", auth=staff_auth, response={200: CaseRow, **ERRORS}, tags=["cases"],
             summary="Set a case's status (during a conversation; after it, while the case is not resolved)")
def staff_case_status(request, case_id: int, payload: StatusIn):
    return case_row(actions.case_status_set(principal=request.principal, case_id=case_id,
                                            status_id=payload.status_id))


class TopicIn(Schema):
    topic_id: int


@router.post("/staff/conversations/{conversation_id}/topic", auth=staff_auth,
             response={200: StaffConversationOut, **ERRORS}, tags=["cases"],
             summary="During the conversation: move it and its case to another topic (and case type)")
def staff_conversation_topic(request, conversation_id: int, payload: TopicIn):
    actions.conversation_topic_set(principal=request.principal, conversation_id=conversation_id,
                                   topic_id=payload.topic_id)
    return staff_view(request.principal, conversation_id)


class ContinueIn(Schema):
    topic_id: int
    body: str | None = Field(None, description="A first message to the customer (they find it unread)")
    client_message_id: str | None = Field(None, description="Makes a retry return the same conversation")


@router.post("/staff/conversations/{conversation_id}/continue", auth=staff_auth,
             response={201: StaffConversationOut, **ERRORS}, tags=["cases"],
             summary="Outbound from Ended: write to the signed-in customer again, on a topic")
def staff_conversation_continue(request, conversation_id: int, payload: ContinueIn):
    conversation = actions.conversation_continue(principal=request.principal, conversation_id=conversation_id,
                                                 topic_id=payload.topic_id, body=payload.body,
                                                 client_message_id=payload.client_message_id)
    return Status(201, staff_view(request.principal, conversation.id))
