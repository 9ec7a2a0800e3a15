"""Conversations in the JSON API: the customer's side and the staff console's side."""
from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from branchline.accounts.api import CustomerSessionOut, SsoRedeemIn, customer_session_out, sso_budget
from branchline.accounts.auth import customer_auth, staff_auth
from branchline.accounts.permissions import Action
from branchline.connectors.actions import channel_web
from branchline.contacts.schemas import CustomerRef
from branchline.core import ratelimit
from branchline.core.errors import InvalidInput
from branchline.core.ids import MAX_ID
from branchline.core.schemas import ErrorOut, already_shaped
from branchline.routing.selectors import queues_of_line, served_queue_ids

from . import actions, selectors
from .models import ConversationState
from .payloads import (
    channel_capabilities,
    conversation_for_customer,
    conversation_for_staff,
    message_for_customer,
    message_for_staff,
)
from .schemas import (
    CustomerConversationOut,
    CustomerSendIn,
    MessagePage,
    NewTagIn,
    QueueIn,
    QueueOut,
    ReceiptIn,
    RejectIn,
    SendOut,
    StaffConversationOut,
    StaffMessagePage,
    StaffRef,
    StaffSendIn,
    StaffSendOut,
    TagIn,
    TopicRef,
    TransferIn,
)

router = Router()
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


def _limit(limit: int) -> int:
    maximum = settings.BRANCHLINE["HISTORY_PAGE_MAX"]
    if not 1 <= limit <= maximum:
        raise InvalidInput(_("limit must be between 1 and %(max)s.") % {"max": maximum}, code="limit_invalid")
    return limit


def page_size(principal, limit: int) -> int:
    """A history page's size, once its reader has the budget for it: history reads cost
    the database, so each reader (all their devices) has a budget of pages."""
    limit = _limit(limit)
    limits = settings.BRANCHLINE
    ratelimit.hit(f"pages:{principal.kind}:{principal.id}", rate=limits["HISTORY_PAGES_PER_SECOND"],
                  burst=limits["HISTORY_PAGES_BURST"],
                  message=_("Too many history pages at once. Wait a moment and try again."))
    return limit


def page_body(messages, limit, shape) -> dict:
    return {"messages": [shape(m) for m in reversed(messages[:limit])], "has_more": len(messages) > limit}


def _page(messages, limit, shape):
    return already_shaped(page_body(messages, limit, shape))


# --- customer -------------------------------------------------------------------------

@router.post("/customer/sessions/sso", response={201: CustomerSessionOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
             tags=["customer"], summary="Exchange the sign-in's hand-over code for the customer's token")
def customer_session_sso(request, payload: SsoRedeemIn):
    """Here rather than with the other sign-ins: a guest who signed in from a chat keeps the
    conversation (step-up), which is this app's to move."""
    sso_budget(request)
    customer, token = actions.customer_sso_redeem(code=payload.code, binding=payload.binding)
    return Status(201, customer_session_out(customer, token))


class CustomerMeOut(Schema):
    customer: CustomerRef
    conversation: CustomerConversationOut | None
    unread_count: int
    carries: list[str] = Field(description="What the chat carries besides text: document, image, audio, video, "
                                           "location (docs/protocol.md §16)")
    max_file_mb: int = Field(description="The largest file it takes, in MB")


@router.get("/customer/me", auth=customer_auth, response={200: CustomerMeOut, **ERRORS}, tags=["customer"],
            summary="Who the customer is, their open conversation and unread count")
def customer_me(request):
    principal = request.principal
    conversation = selectors.customer_current_conversation(principal.id)
    return {
        "customer": {"id": principal.id, "name": principal.display_name,
                     "authenticated": principal.authenticated_customer},
        "conversation": conversation_for_customer(conversation) if conversation else None,
        "unread_count": selectors.customer_unread_count(principal.id),
        **channel_capabilities(channel_web()),
    }


class CustomerHistoryQuery(Schema):
    before_id: int | None = None
    limit: int = 30


@router.get("/customer/messages", auth=customer_auth, response={200: MessagePage, **ERRORS}, tags=["customer"],
            summary="A page of the customer's history across all their conversations (newest page first)")
def customer_messages(request, query: Query[CustomerHistoryQuery]):
    limit = page_size(request.principal, query.limit)
    messages = selectors.messages_for_customer_before(request.principal.id, before_id=query.before_id, limit=limit + 1)
    return _page(messages, limit, message_for_customer)


@router.post("/customer/messages", auth=customer_auth, response={200: SendOut, 201: SendOut, **ERRORS},
             tags=["customer"], summary="Send a message (starts a conversation on topic_id if none is open)")
def customer_message_send(request, payload: CustomerSendIn):
    message, created = actions.customer_message_send(
        principal=request.principal, body=payload.body, client_message_id=payload.client_message_id,
        topic_id=payload.topic_id, attachment_id=payload.attachment_id,
    )
    if not request.principal.authenticated_customer:
        # A guest writing over HTTP is alive too (the socket's heartbeat covers the rest).
        actions.customers_seen([request.principal.id])
    return Status(201 if created else 200, {"message": message_for_customer(message), "duplicate": not created})


@router.post("/customer/conversations/{conversation_id}/receipt", auth=customer_auth,
             response={200: CustomerConversationOut, **ERRORS}, tags=["customer"],
             summary="Mark messages delivered / read up to a seq")
def customer_receipt(request, conversation_id: int, payload: ReceiptIn):
    conversation = actions.receipt_update(principal=request.principal, conversation_id=conversation_id,
                                          delivered_seq=payload.delivered_seq, read_seq=payload.read_seq)
    return conversation_for_customer(selectors.access_conversation(request.principal, conversation.id))


# --- staff ----------------------------------------------------------------------------

class StaffListQuery(Schema):
    state: ConversationState = ConversationState.ACTIVE
    scope: str = Field("mine", pattern="^(mine|line)$",
                       description="mine: yours and your queue; line: the whole line of business (supervisors, "
                                   "administrators, auditors)")
    q: str = Field("", max_length=100, pattern=r"^[^\x00]*$",
                   description="Only signed-in customers whose name holds this")
    tag_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only those carrying this tag")


def staff_view(principal, conversation_id):
    conversation = selectors.access_conversation(principal, conversation_id)
    conversation.my_read_seq = getattr(selectors.participant_of(conversation.id, principal), "read_seq", 0)
    return conversation_for_staff(conversation,
                                  unread_count=selectors.staff_unread_count(conversation, conversation.my_read_seq))


@router.get("/staff/conversations", auth=staff_auth, response={200: list[StaffConversationOut], **ERRORS},
            tags=["staff"], summary="waiting (your queues, newest first), active (In Progress) or ended (handled)")
def staff_conversations(request, query: Query[StaffListQuery]):
    return [conversation_for_staff(c, unread_count=c.unread)
            for c in selectors.conversations_for_staff(request.principal, state=query.state,
                                                      whole_line=query.scope == "line", customer_name=query.q,
                                                      tag_id=query.tag_id)]


@router.get("/staff/conversations/{conversation_id}", auth=staff_auth,
            response={200: StaffConversationOut, **ERRORS}, tags=["staff"])
def staff_conversation(request, conversation_id: int):
    view = staff_view(request.principal, conversation_id)
    actions.customer_data_read(principal=request.principal, customer_id=view["customer"]["id"],
                               conversation_id=conversation_id, what="conversation")
    return view


class StaffSeqPageQuery(Schema):
    before_seq: int | None = Field(None, description="A staff_seq: items before it")
    limit: int = 50


@router.get("/staff/conversations/{conversation_id}/messages", auth=staff_auth,
            response={200: StaffMessagePage, **ERRORS}, tags=["staff"],
            summary="A page of a conversation's staff stream (notes included), newest page first")
def staff_messages(request, conversation_id: int, query: Query[StaffSeqPageQuery]):
    limit = page_size(request.principal, query.limit)
    conversation = selectors.access_conversation(request.principal, conversation_id, related=False)
    page = _page(selectors.messages_in_conversation_before(conversation, before_seq=query.before_seq, limit=limit + 1),
                 limit, message_for_staff)
    actions.customer_data_read(principal=request.principal, customer_id=conversation.customer_id,
                               conversation_id=conversation.id, what="messages")
    return page


class HistoryQuery(Schema):
    before_id: int | None = None
    limit: int = 50


@router.get("/staff/conversations/{conversation_id}/history", auth=staff_auth,
            response={200: StaffMessagePage, **ERRORS}, tags=["staff"],
            summary="The customer's whole history (every conversation, channel and case; notes included)")
def staff_history(request, conversation_id: int, query: Query[HistoryQuery]):
    limit = page_size(request.principal, query.limit)
    conversation = selectors.access_conversation(request.principal, conversation_id, related=False)
    page = _page(selectors.customer_history_before(conversation.customer_id, before_id=query.before_id,
                                                   limit=limit + 1), limit, message_for_staff)
    actions.customer_data_read(principal=request.principal, customer_id=conversation.customer_id,
                               conversation_id=conversation.id, what="history")
    return page


class InsightsOut(Schema):
    language: str | None = Field(description="ISO 639-1 code of the language the customer writes in (pl, ru, en, "
                                             "it, de, fr, es, uk); null until their messages say it clearly")
    sentiment: str | None = Field(description="How they sound in their latest messages: negative | neutral | "
                                              "positive; null for a language with no lexicon (en, pl, ru, it have one)")
    sentiment_score: float | None = Field(description="-1 (most negative) to 1")
    messages: int = Field(description="How many of the customer's latest messages were read (at most 10)")


@router.get("/staff/conversations/{conversation_id}/insights", auth=staff_auth,
            response={200: InsightsOut, **ERRORS}, tags=["staff"],
            summary="The customer's language and tone, from their latest messages (computed here, no network)")
def staff_insights(request, conversation_id: int):
    return selectors.conversation_insights(request.principal, conversation_id)


def _state_change(name: str, action, summary: str) -> None:
    """POST /staff/conversations/{id}/<name>: the action, then the conversation as you now see it."""
    def view(request, conversation_id: int):
        action(principal=request.principal, conversation_id=conversation_id)
        return staff_view(request.principal, conversation_id)

    view.__name__ = f"staff_{name}"  # the OpenAPI operation id
    router.post(f"/staff/conversations/{{conversation_id}}/{name}", auth=staff_auth,
                response={200: StaffConversationOut, **ERRORS}, tags=["staff"], summary=summary)(view)


for _name, (_action, _summary) in actions.STATE_CHANGES.items():
    _state_change(_name, _action, _summary)


@router.get("/staff/conversations/{conversation_id}/transfer-candidates", auth=staff_auth,
            response={200: list[StaffRef], **ERRORS}, tags=["staff"], summary="Who may receive this conversation")
def staff_transfer_candidates(request, conversation_id: int):
    conversation = selectors.access_conversation(request.principal, conversation_id, Action.TRANSFER)
    return [{"id": u.id, "name": u.display_name, "role": u.role}
            for u in actions.transfer_candidates(conversation).exclude(pk=conversation.assigned_agent_id)
            .order_by("first_name", "last_name", "username")]


@router.post("/staff/conversations/{conversation_id}/transfer", auth=staff_auth,
             response={200: StaffConversationOut, **ERRORS}, tags=["staff"],
             summary="Hand the conversation to another member of staff, with a note only staff see")
def staff_transfer(request, conversation_id: int, payload: TransferIn):
    actions.conversation_transfer(principal=request.principal, conversation_id=conversation_id,
                                  to_user_id=payload.to_user_id, note=payload.note)
    return staff_view(request.principal, conversation_id)


def acted_on(conversation_id: int) -> dict:
    """The conversation as it is after an action that may have taken it out of its actor's
    sight (sent to a queue they do not serve): what they just did, shown to them once."""
    conversation, unread = selectors.conversation_snapshot_for_staff(conversation_id)
    return conversation_for_staff(conversation, unread_count=unread)


@router.post("/staff/conversations/{conversation_id}/queue", auth=staff_auth,
             response={200: StaffConversationOut, **ERRORS}, tags=["staff"],
             summary="Send the conversation to another queue of its line, to wait there")
def staff_queue_set(request, conversation_id: int, payload: QueueIn):
    conversation = actions.conversation_queue_set(principal=request.principal, conversation_id=conversation_id,
                                                  queue_id=payload.queue_id, note=payload.note)
    return acted_on(conversation.id)


@router.post("/staff/conversations/{conversation_id}/reject", auth=staff_auth,
             response={200: StaffConversationOut, **ERRORS}, tags=["staff"],
             summary="End the conversation as a duplicate, spam, abuse or for another reason")
def staff_reject(request, conversation_id: int, payload: RejectIn):
    conversation = actions.conversation_reject(principal=request.principal, conversation_id=conversation_id,
                                               rejection=payload.rejection, note=payload.note)
    return acted_on(conversation.id)


@router.get("/staff/tags", auth=staff_auth, response={200: list[TopicRef], **ERRORS}, tags=["staff"],
            summary="Your line's tags")
def staff_tags(request):
    return [{"id": t.id, "name": t.name} for t in selectors.tags_of_line(request.principal.line_of_business_id)]


@router.post("/staff/tags", auth=staff_auth, response={200: TopicRef, **ERRORS}, tags=["staff"],
             summary="Supervisors and administrators: add a tag to your line's list (or find it)")
def staff_tag_create(request, payload: NewTagIn):
    tag = actions.tag_create(principal=request.principal, name=payload.name)
    return {"id": tag.id, "name": tag.name}


@router.post("/staff/conversations/{conversation_id}/tags", auth=staff_auth,
             response={200: StaffConversationOut, **ERRORS}, tags=["staff"], summary="Put a tag on the conversation")
def staff_tag_add(request, conversation_id: int, payload: TagIn):
    actions.conversation_tag_set(principal=request.principal, conversation_id=conversation_id, tag_id=payload.tag_id)
    return staff_view(request.principal, conversation_id)


@router.delete("/staff/conversations/{conversation_id}/tags/{tag_id}", auth=staff_auth,
               response={200: StaffConversationOut, **ERRORS}, tags=["staff"],
               summary="Take a tag off the conversation")
def staff_tag_remove(request, conversation_id: int, tag_id: int):
    actions.conversation_tag_set(principal=request.principal, conversation_id=conversation_id, tag_id=tag_id, on=False)
    return staff_view(request.principal, conversation_id)


@router.get("/staff/queues", auth=staff_auth, response={200: list[QueueOut], **ERRORS}, tags=["staff"],
            summary="The queues of your line of business, and which you serve")
def staff_queues(request):
    serving = set(served_queue_ids(request.principal.id).values_list("queue_id", flat=True))
    return [{"id": q.id, "name": q.name, "is_default": q.is_default, "serving": q.id in serving}
            for q in queues_of_line(request.principal.line_of_business_id)]


@router.post("/staff/conversations/{conversation_id}/messages", auth=staff_auth,
             response={200: StaffSendOut, 201: StaffSendOut, **ERRORS}, tags=["staff"],
             summary="Write to the customer (visibility public) or add an internal note (visibility staff)")
def staff_message_send(request, conversation_id: int, payload: StaffSendIn):
    message, created = actions.staff_message_send(principal=request.principal, conversation_id=conversation_id,
                                                  body=payload.body, client_message_id=payload.client_message_id,
                                                  visibility=payload.visibility, attachment_id=payload.attachment_id,
                                                  location=payload.location and payload.location.dict())
    return Status(201 if created else 200, {"message": message_for_staff(message), "duplicate": not created})


@router.post("/staff/conversations/{conversation_id}/receipt", auth=staff_auth,
             response={200: StaffConversationOut, **ERRORS}, tags=["staff"],
             summary="Mark items delivered / read up to a staff_seq")
def staff_receipt(request, conversation_id: int, payload: ReceiptIn):
    actions.receipt_update(principal=request.principal, conversation_id=conversation_id,
                           delivered_seq=payload.delivered_seq, read_seq=payload.read_seq)
    return staff_view(request.principal, conversation_id)
