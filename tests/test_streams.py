"""The hot path's plain SQL (conversations/actions/streams.py) is tied to the models: its
statements are built from the models' fields, and what it stores reads back through the
ORM field for field."""
import pytest
from django.db import connection, transaction

from branchline.conversations import actions
from branchline.conversations.actions import streams
from branchline.conversations.models import Conversation, Message
from branchline.core.errors import InvalidInput
from branchline.events import SYSTEM
from tests import factories
from tests.factories import principal

pytestmark = pytest.mark.django_db


def test_the_insert_names_every_column_of_the_message_model():
    columns = {f.column for f in Message._meta.concrete_fields if not f.primary_key}
    assert {f.column for f in streams._INSERTED} == columns
    sql = streams._insert_sql()
    assert all(connection.ops.quote_name(column) in sql for column in columns)


def test_the_allocation_returns_real_conversation_columns():
    for name in streams._RETURNED.names:
        assert Conversation._meta.get_field(name).column in streams._allocate_sql("id = %s", public=True)


@pytest.mark.parametrize("visibility", ["public", "staff"])
def test_what_the_hot_path_stores_reads_back_through_the_orm(world, visibility):
    message, _ = actions.customer_message_send(principal=principal(factories.customer()), body="Hi",
                                               client_message_id="c1", topic_id=world.topic.id)
    public = visibility == "public"
    with transaction.atomic():
        conversation = streams.allocate_by_id(message.conversation_id, public=public)
        stored = streams.insert(conversation, actor=SYSTEM, sender="agent", kind="text" if public else "note",
                                visibility=visibility, body="Ünïcödé ✓", author_id=world.agent.id,
                                client_message_id="a-1")
    read = Message.objects.get(pk=stored.pk)
    for field in Message._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(stored, field.attname), field.name
    row = Conversation.objects.get(pk=message.conversation_id)
    assert (row.last_seq, row.last_staff_seq) == ((2, 2) if public else (1, 2))
    assert (conversation.customer_id, conversation.watchers, conversation.state) == (
        row.customer_id, row.watchers, row.state)


def test_a_client_message_id_with_a_trailing_newline_is_refused():
    with pytest.raises(InvalidInput):
        actions.clean_client_message_id("a" * 64 + "\n")
    assert actions.clean_client_message_id("a" * 64) == "a" * 64
