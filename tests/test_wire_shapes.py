"""Each wire shape has one definition, its schema (what the OpenAPI document publishes);
the payload builders the socket and the API share must produce exactly that shape."""
import pytest

from branchline.conversations import actions, selectors
from branchline.conversations.api import page_body
from branchline.conversations.models import Conversation
from branchline.conversations.payloads import (
    conversation_for_customer,
    conversation_for_staff,
    message_for_customer,
    message_for_staff,
)
from branchline.conversations.schemas import (
    CustomerConversationOut,
    MessageOut,
    MessagePage,
    StaffConversationOut,
    StaffMessageOut,
    StaffMessagePage,
)
from tests import factories
from tests.factories import principal

pytestmark = pytest.mark.django_db


def exactly(schema, payload):
    assert set(payload) == set(schema.model_fields), f"{schema.__name__}: {set(payload) ^ set(schema.model_fields)}"
    schema.model_validate(payload)


def test_payloads_are_exactly_their_schemas(world):
    first, _ = actions.customer_message_send(principal=principal(factories.customer()), body="Hi",
                                             client_message_id="c1", topic_id=world.topic.id)
    cid = first.conversation_id
    actions.conversation_accept(principal=principal(world.agent), conversation_id=cid)
    actions.staff_message_send(principal=principal(world.agent), conversation_id=cid, body="note",
                               client_message_id="n1", visibility="staff")
    actions.conversation_transfer(principal=principal(world.agent), conversation_id=cid, to_user_id=world.agent2.id,
                                  note="yours")
    rows = selectors.messages_missed(principal(world.agent2), {cid: 0})
    assert {row.kind for row in rows} == {"text", "note", "system"}
    for row in rows:
        exactly(StaffMessageOut, message_for_staff(row))
        if row.visibility == "public":
            exactly(MessageOut, message_for_customer(row))
    # Pages are sent as built, without ninja validating them (core/schemas.already_shaped).
    public = [row for row in rows if row.visibility == "public"]
    for schema, page_rows, shape in ((MessagePage, public, message_for_customer),
                                     (StaffMessagePage, rows, message_for_staff)):
        body = page_body(page_rows, len(page_rows) - 1, shape)
        assert body["has_more"] is True
        exactly(schema, body)
    conversation, unread = selectors.conversation_snapshot_for_staff(cid)
    exactly(StaffConversationOut, conversation_for_staff(conversation, unread_count=unread))
    exactly(CustomerConversationOut, conversation_for_customer(Conversation.objects.get(pk=cid)))


def test_case_rows_are_exactly_their_schema(world):
    """The Cases module's pages are sent as built (core/schemas.already_shaped)."""
    from branchline.cases import listing
    from branchline.cases import selectors as cases
    from branchline.cases.models import Case
    from branchline.cases.schemas import CasePage, CaseRow, case_row
    from branchline.conversations.case_api import case_page_body

    for customer in (factories.customer(), factories.customer(authenticated=True)):
        first, _ = actions.customer_message_send(principal=principal(customer), body="Hi", client_message_id="c1",
                                                 topic_id=world.topic.id)
        actions.conversation_accept(principal=principal(world.agent), conversation_id=first.conversation_id)
    rows = listing.cases_page(principal(world.admin), listing.CaseFilters(), before_id=None, limit=2)
    body = case_page_body(rows, 1)
    assert body["next_before_id"] == body["cases"][0]["id"]
    exactly(CasePage, body)
    for row in body["cases"]:
        exactly(CaseRow, row)
    built = [case_row(case) for case in Case.objects.select_related(*cases.RELATED).order_by("-id")]
    assert built == case_page_body(listing.cases_page(principal(world.admin), listing.CaseFilters(), before_id=None,
                                                    limit=10), 10)["cases"]
    assert [r["customer"]["name"] for r in built] == ["Jan Kowalski", "Customer"]
