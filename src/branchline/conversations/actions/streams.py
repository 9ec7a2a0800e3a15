"""Appending items to a conversation's two streams (docs/adr/0005). Used inside the
actions' transactions; never on its own.

The hottest write is here, in plain SQL: one UPDATE ... RETURNING takes the next numbers
and the row lock, one INSERT stores the item. The ORM's query building cost about a fifth of
a send's Python time (bench/README.md). The statements are built from the models' fields
(columns, converters), and tests/test_streams.py ties them to the models."""
from django.db import connection
from django.utils import timezone

from branchline.core import sql
from branchline.events import Actor, publish

from ..events import MessageAdded
from ..models import Conversation, Message, Visibility

# What the allocation returns: enough to store the item and name its audiences.
_RETURNED = sql.Columns(Conversation, ("id", "last_seq", "last_staff_seq", "state", "customer_id",
                                       "assigned_agent_id", "line_of_business_id", "watchers"))
_INSERTED = tuple(f for f in Message._meta.concrete_fields if not f.primary_key)


def _allocate_sql(where: str, public: bool) -> str:
    def column(name):
        return sql.column(Conversation, name)

    bumps = [f"{column('last_staff_seq')} = {column('last_staff_seq')} + 1"]
    if public:  # notes take no public number and do not count as conversation activity
        bumps += [f"{column('last_seq')} = {column('last_seq')} + 1", f"{column('last_message_at')} = %s"]
    return (f"UPDATE {sql.table(Conversation)} SET {', '.join(bumps)} "
            f"WHERE {where.format(table=sql.table(Conversation))} RETURNING {_RETURNED.sql()}")


def allocate(where: str, params: list, *, public: bool) -> Conversation | None:
    """Take the next staff number (and public number, for a public item) of the one open
    conversation `where` selects, locking its row until commit. None if none matches."""
    now = timezone.now()
    found = sql.fetch(("allocate", where, public), lambda: _allocate_sql(where, public),
                      [connection.ops.adapt_datetimefield_value(now), *params] if public else params)
    if not found:
        return None
    conversation = _RETURNED.instance(found[0])
    if public:
        conversation.last_message_at = now
    return conversation


def allocate_by_id(conversation_id: int, *, public: bool) -> Conversation:
    return allocate("id = %s", [conversation_id], public=public)


def _insert_sql() -> str:
    columns = ", ".join(sql.quote(f.column) for f in _INSERTED)
    return f"INSERT INTO {sql.table(Message)} ({columns}) VALUES ({', '.join(['%s'] * len(_INSERTED))}) RETURNING id"


def insert(conversation: Conversation, *, actor: Actor, names: dict | None = None, **fields) -> Message:
    """Store an item at the numbers just allocated, and publish MessageAdded.

    `fields` are Message fields (sender, kind, visibility, body, author_id, ...);
    `names` ({user id: display name}) spares the payload a query for names it knows."""
    public = fields.get("visibility", Visibility.PUBLIC) == Visibility.PUBLIC
    message = Message(conversation_id=conversation.id, customer_id=conversation.customer_id,
                      seq=conversation.last_seq if public else None, staff_seq=conversation.last_staff_seq,
                      created_at=timezone.now(), **fields)
    found = sql.fetch(("insert",), _insert_sql,
                      [f.get_db_prep_save(getattr(message, f.attname), connection) for f in _INSERTED])
    message.id = found[0][0]
    message._state.adding, message._state.db = False, connection.alias
    publish(MessageAdded(actor=actor, message=message, names=names, **routing(conversation)))
    return message


def routing(conversation: Conversation) -> dict:
    """The routing facts every conversation event carries (conversations/events.py)."""
    return {"conversation_id": conversation.id, "customer_id": conversation.customer_id,
            "line_of_business_id": conversation.line_of_business_id, "state": conversation.state,
            "watchers": tuple(conversation.watchers or ())}
