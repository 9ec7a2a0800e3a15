"""core/sql.py: statements built from the models' fields read back what the ORM reads."""
import pytest
from django.db import transaction

from branchline.conversations import actions
from branchline.conversations.models import Conversation, Message
from branchline.conversations.selectors import message_rows
from branchline.core import sql
from tests import factories
from tests.factories import principal

pytestmark = pytest.mark.django_db


def _conversation_with_items(world) -> Conversation:
    first, _ = actions.customer_message_send(principal=principal(factories.customer()), body="Hi",
                                             client_message_id="c1", topic_id=world.topic.id)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=first.conversation_id)
    actions.staff_message_send(principal=principal(world.agent), conversation_id=first.conversation_id,
                               body="a note", client_message_id="n1", visibility="staff")
    with transaction.atomic():
        Conversation.objects.filter(pk=first.conversation_id).update(watchers=[world.agent.id])
    return Conversation.objects.get(pk=first.conversation_id)


def test_columns_in_any_order_make_the_instance_the_orm_would(world):
    conversation = _conversation_with_items(world)
    # Out of the model's field order, and with a converted field (JSON) among them.
    columns = sql.Columns(Conversation, ("watchers", "state", "id", "created_at", "last_staff_seq"))
    found = sql.fetch(("test", "conversation"), lambda: f"SELECT {columns.sql()} FROM {sql.table(Conversation)} "
                      f"WHERE {sql.column(Conversation, 'id')} = %s", [conversation.id])
    read = columns.instance(found[0])
    for name in columns.names:
        assert getattr(read, name) == getattr(conversation, name), name
    assert read.watchers == [world.agent.id]
    assert read.get_deferred_fields() >= {"topic_id", "customer_id"}
    assert read.customer_id == conversation.customer_id  # a deferred field loads on first use


def test_message_rows_read_what_the_orm_reads(world):
    conversation = _conversation_with_items(world)
    by_orm = {m.id: m for m in Message.objects.filter(conversation=conversation)}
    rows = message_rows({"conversation_id": conversation.id, "staff_seq__gt": 0}, order_by="staff_seq", limit=100)
    assert [row["staff_seq"] for row in rows] == sorted(m.staff_seq for m in by_orm.values())
    for row in rows:
        message = by_orm[row["id"]]
        for name, value in row.items():
            if name != "names":
                assert value == getattr(message, name), name
        if message.author_id:
            assert row.names[message.author_id] == message.author.display_name
    newest = message_rows({"conversation_id": conversation.id, "staff_seq__lt": 3}, order_by="-staff_seq", limit=1)
    assert [row.staff_seq for row in newest] == [2]


def test_numbers_beyond_64_bits_read_as_the_ends_of_the_range(world, client):
    """Found by the API fuzz: a before_id of 2**64 reached SQLite as a parameter (500)."""
    conversation = _conversation_with_items(world)
    every = message_rows({"conversation_id": conversation.id, "staff_seq__lt": 2**70}, order_by="staff_seq", limit=100)
    assert len(every) == Message.objects.filter(conversation=conversation).count()
    assert message_rows({"conversation_id": conversation.id, "staff_seq__gt": 2**70}, order_by="staff_seq",
                        limit=100) == []
    _customer, token = factories.customer_with_token()
    answer = client.get("/api/customer/messages", {"before_id": 2**64}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert (answer.status_code, answer.json()["messages"]) == (200, [])


def test_a_limit_is_written_as_one_of_a_few_sizes_and_the_rows_cut_to_it(world):
    assert [sql.written_limit(n) for n in (1, 11, 12, 51, 101, 150, 1000, 1001, 5000)] == \
        [11, 11, 26, 51, 101, 201, 1001, 1001, 5000]
    conversation = _conversation_with_items(world)
    everything = message_rows({"conversation_id": conversation.id}, order_by="staff_seq", limit=100)
    assert len(everything) > 2
    for limit in range(1, len(everything) + 1):
        page = message_rows({"conversation_id": conversation.id}, order_by="staff_seq", limit=limit)
        assert [row["id"] for row in page] == [row["id"] for row in everything[:limit]]
