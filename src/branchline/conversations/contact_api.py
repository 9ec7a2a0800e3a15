"""The Contacts page's API (docs/protocol.md §13): the customers staff may see, barring a
customer from a conversation, and lifting a bar."""
from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from branchline.accounts.auth import staff_auth
from branchline.accounts.permissions import staff_scope
from branchline.contacts.schemas import ContactCard
from branchline.core.errors import InvalidInput
from branchline.core.ids import MAX_ID
from branchline.core.schemas import ErrorOut
from branchline.core.wire import timestamp

from . import actions, selectors
from .api import acted_on
from .payloads import contact_card
from .schemas import BarIn, NewContactIn, RelateIn, StaffConversationOut

router = Router()
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}
PAGE_MAX = 100


class ContactOut(Schema):
    id: int
    name: str = Field(description='"Customer" for a guest')
    authenticated: bool
    email: str
    barred: bool
    barred_at: datetime | None
    barred_by: str = Field(description="Who barred them (the name at the time)")
    bar_reason: str
    dropped_messages: int = Field(description="Messages they sent while barred, which reached nobody")
    contact: ContactCard | None = Field(description="The contact staff related this profile to (Recognized)")


class ContactPage(Schema):
    contacts: list[ContactOut] = Field(description="Newest first")
    next_before_id: int | None


class ContactsQuery(Schema):
    q: str = Field("", description="In the name of a signed-in customer", max_length=100, pattern=r"^[^\x00]*$")
    barred: bool | None = None
    before_id: int | None = Field(None, ge=1, le=MAX_ID)
    limit: int = Field(50, description=f"1 to {PAGE_MAX}")


def contact_out(customer, principal) -> dict:
    """A row of the Contacts page; its contact only as the reader's line related it."""
    lines = staff_scope(principal).line_of_business_ids
    return {"id": customer.id, "name": customer.display_name, "authenticated": customer.is_authenticated,
            "email": customer.email if customer.is_authenticated else "", "barred": customer.barred_at is not None,
            "barred_at": timestamp(customer.barred_at), "barred_by": customer.barred_by,
            "bar_reason": customer.bar_reason, "dropped_messages": customer.dropped_messages,
            "contact": next((contact_card(link.contact) for link in customer.contact_links.all()
                             if link.line_of_business_id in lines), None)}


@router.get("/staff/contacts", auth=staff_auth, response={200: ContactPage, **ERRORS}, tags=["contacts"],
            summary="The customers you may see: who wrote to your line, or whom you served")
def staff_contacts(request, query: Query[ContactsQuery]):
    if not 1 <= query.limit <= PAGE_MAX:
        raise InvalidInput(_("limit must be between 1 and %(max)s.") % {"max": PAGE_MAX}, code="limit_invalid")
    found = selectors.contacts_page(request.principal, q=query.q, barred=query.barred, before_id=query.before_id,
                                    limit=query.limit + 1)
    page = found[:query.limit]
    return {"contacts": [contact_out(c, request.principal) for c in page],
            "next_before_id": page[-1].id if len(found) > query.limit else None}


@router.post("/staff/conversations/{conversation_id}/bar", auth=staff_auth,
             response={200: StaffConversationOut, **ERRORS}, tags=["contacts"],
             summary="Bar the conversation's customer: their messages are dropped; their open conversations end")
def staff_bar(request, conversation_id: int, payload: BarIn):
    actions.customer_bar(principal=request.principal, conversation_id=conversation_id, reason=payload.reason)
    return acted_on(conversation_id)


class ContactSearch(Schema):
    q: str = Field(description="Words that begin a name, an e-mail or a phone number (2 characters at least)",
                   max_length=100, pattern=r"^[^\x00]*$")


@router.get("/staff/contacts/search", auth=staff_auth, response={200: list[ContactCard], **ERRORS},
            tags=["contacts"], summary="Search as you type: contacts of your line of business (at most 10)")
def staff_contact_search(request, query: Query[ContactSearch]):
    return [contact_card(c) for c in selectors.contacts_matching(request.principal, query.q)]


@router.post("/staff/conversations/{conversation_id}/contact", auth=staff_auth,
             response={200: StaffConversationOut, **ERRORS}, tags=["contacts"],
             summary="Relate the conversation's customer to a contact: they are Recognized")
def staff_contact_relate(request, conversation_id: int, payload: RelateIn):
    actions.customer_contact_relate(principal=request.principal, conversation_id=conversation_id,
                                    contact_id=payload.contact_id)
    return acted_on(conversation_id)


@router.post("/staff/conversations/{conversation_id}/contact/new", auth=staff_auth,
             response={200: StaffConversationOut, **ERRORS}, tags=["contacts"],
             summary="Record a contact from what you know of the customer, and relate them to it")
def staff_contact_create(request, conversation_id: int, payload: NewContactIn):
    actions.contact_create(principal=request.principal, conversation_id=conversation_id, **payload.dict())
    return acted_on(conversation_id)


@router.post("/staff/contacts/{customer_id}/unbar", auth=staff_auth, response={200: ContactOut, **ERRORS},
             tags=["contacts"], summary="Supervisors and administrators: lift a customer's bar")
def staff_unbar(request, customer_id: int):
    return contact_out(actions.customer_unbar(principal=request.principal, customer_id=customer_id), request.principal)
