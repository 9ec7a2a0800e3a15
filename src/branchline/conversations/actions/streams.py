"""Appending items to a conversation's two streams (docs/adr/0005).

The hottest write is here, in plain SQL: one UPDATE ... RETURNING takes the next numbers
and the row lock, one INSERT stores the item. The ORM's query building cost about a fifth of
a send's Python time (bench/README.md). On PostgreSQL `append` makes the two one statement,
so that a message in an open conversation costs one round trip to the database instead of
four (BEGIN, UPDATE, INSERT, COMMIT). The statements are built from the models' fields
(columns, converters, types), and tests/test_streams.py and
tests/scaleout/test_streams_postgres.py tie them to the models."""
from contextlib import nullcontext

from django.db import connection, models, transaction
from django.utils import timezone

from branchline.core import sql
from branchline.events import Actor, has_durable_subscribers, publish

from ..events import MessageAdded
from ..models import Conversation, Message, Sender, Visibility

# What the allocation returns: enough to store the item and name its audiences.
_RETURNED = sql.Columns(Conversation, ("id", "last_seq", "last_staff_seq", "state", "customer_id",
                                       "assigned_agent_id", "line_of_business_id", "queue_id", "channel_id",
                                       "watchers"))
_INSERTED = tuple(f for f in Message._meta.concrete_fields if not f.primary_key)


def _allocate_sql(where: str, public: bool, customer: bool = False) -> str:
    def column(name):
        return sql.column(Conversation, name)

    bumps = [f"{column('last_staff_seq')} = {column('last_staff_seq')} + 1"]
    if public:  # notes take no public number and do not count as conversation activity
        bumps += [f"{column('last_seq')} = {column('last_seq')} + 1", f"{column('last_message_at')} = %s"]
    if customer:  # the customer wrote: the channel's auto-close counts from now
        bumps.append(f"{column('customer_active_at')} = %s")
    return (f"UPDATE {sql.table(Conversation)} SET {', '.join(bumps)} "
            f"WHERE {where.format(table=sql.table(Conversation))} RETURNING {_RETURNED.sql()}")


def _moments(now, public: bool, customer: bool) -> list:
    """The allocation's SET parameters: last_message_at, then customer_active_at."""
    return [connection.ops.adapt_datetimefield_value(now)] * (int(public) + int(customer))


def allocate(where: str, params: list, *, public: bool, customer: bool = False) -> Conversation | None:
    """Take the next staff number (and public number, for a public item) of the one open
    conversation `where` selects, locking its row until commit. None if none matches.
    `customer`: the item is the customer's message (it moves customer_active_at)."""
    now = timezone.now()
    found = sql.fetch(("allocate", where, public, customer), lambda: _allocate_sql(where, public, customer),
                      [*_moments(now, public, customer), *params])
    if not found:
        return None
    conversation = _RETURNED.instance(found[0])
    if public:
        conversation.last_message_at = now
    return conversation


def allocate_by_id(conversation_id: int, *, public: bool, customer: bool = False) -> Conversation:
    return allocate("id = %s", [conversation_id], public=public, customer=customer)


def _insert_sql() -> str:
    columns = ", ".join(sql.quote(f.column) for f in _INSERTED)
    return f"INSERT INTO {sql.table(Message)} ({columns}) VALUES ({', '.join(['%s'] * len(_INSERTED))}) RETURNING id"


def insert(conversation: Conversation, *, actor: Actor, names: dict | None = None, **fields) -> Message:
    """Store an item at the numbers just allocated, and publish MessageAdded.

    `fields` are Message fields (sender, kind, visibility, body, author_id, ...);
    `names` ({user id: display name}) spares the payload a query for names it knows."""
    message = _numbered(Message(created_at=timezone.now(), **fields), conversation)
    found = sql.fetch(("insert",), _insert_sql,
                      [f.get_db_prep_save(getattr(message, f.attname), connection) for f in _INSERTED])
    return _stored(message, found[0][0], conversation, actor, names)


def _numbered(message: Message, conversation: Conversation) -> Message:
    """The item placed at the numbers the conversation's allocation just took."""
    message.conversation_id, message.customer_id = conversation.id, conversation.customer_id
    message.seq = conversation.last_seq if message.visibility == Visibility.PUBLIC else None
    message.staff_seq = conversation.last_staff_seq
    return message


def _stored(message: Message, message_id: int, conversation: Conversation, actor: Actor, names) -> Message:
    message.id = message_id
    message._state.adding, message._state.db = False, connection.alias
    publish(MessageAdded(actor=actor, message=message, names=names, **routing(conversation)))
    return message


# The message's columns the allocation fills in (from the conversation row it updated);
# the others are parameters.
_FROM_ALLOCATION = {"conversation_id": "id", "customer_id": "customer_id", "seq": "last_seq",
                    "staff_seq": "last_staff_seq"}


def _unbounded(field) -> str:
    """The parameter's type for INSERT ... SELECT: a character column's type without its
    length, so that the column's own check refuses an over-long value as INSERT ... VALUES
    does (an explicit CAST to varchar(n) would cut it silently)."""
    if isinstance(field, (models.CharField, models.TextField)):
        return "text"
    return field.cast_db_type(connection)


def _append_sql(where: str, public: bool, customer: bool) -> str:
    """UPDATE ... RETURNING and INSERT ... SELECT from it, in one statement (PostgreSQL's
    data-modifying WITH): it commits as a whole or not at all, like the transaction it
    replaces. Parameters are cast to their column's type, as INSERT ... SELECT does not
    infer them from the target columns."""
    def value(field):
        name = _FROM_ALLOCATION.get(field.attname)
        if field.attname == "seq" and not public:
            return "NULL"
        if name:
            return sql.column(Conversation, name, "c")
        return f"CAST(%s AS {_unbounded(field)})"

    columns = ", ".join(sql.quote(f.column) for f in _INSERTED)
    return (f"WITH c AS ({_allocate_sql(where, public, customer)}), "
            f"m AS (INSERT INTO {sql.table(Message)} ({columns}) SELECT {', '.join(value(f) for f in _INSERTED)} "
            f"FROM c RETURNING {sql.quote(Message._meta.pk.column)}) "
            f"SELECT {sql.Columns(Conversation, _RETURNED.names, 'c').sql()}, m.{sql.quote(Message._meta.pk.column)} "
            "FROM c CROSS JOIN m")


def append(where: str, params: list, *, actor: Actor, names: dict | None = None, **fields) -> Message | None:
    """Allocate in the one open conversation `where` selects and store the item there
    (see insert), as one unit: its own transaction, or a savepoint in the caller's. None,
    with nothing written, if no conversation matches."""
    message = Message(created_at=timezone.now(), **fields)
    public = message.visibility == Visibility.PUBLIC
    customer = message.sender == Sender.CUSTOMER
    # One statement where the database can, and where publishing after it is safe: an
    # event with durable subscribers must be enqueued inside the change's transaction.
    if connection.vendor != "postgresql" or has_durable_subscribers(MessageAdded):
        with transaction.atomic():
            conversation = allocate(where, params, public=public, customer=customer)
            return None if conversation is None else insert(conversation, actor=actor, names=names, **fields)
    values = [f.get_db_prep_save(getattr(message, f.attname), connection) for f in _INSERTED
              if f.attname not in _FROM_ALLOCATION]
    # Outside a transaction the statement is one; inside the caller's, a savepoint keeps a
    # refused insert (a retried client id) from breaking it.
    with transaction.atomic() if connection.in_atomic_block else nullcontext():
        found = sql.fetch(("append", where, public, customer), lambda: _append_sql(where, public, customer),
                          [*_moments(message.created_at, public, customer), *params, *values])
    if not found:
        return None
    conversation = _RETURNED.instance(found[0])
    if public:
        conversation.last_message_at = message.created_at
    return _stored(_numbered(message, conversation), found[0][-1], conversation, actor, names)


def routing(conversation: Conversation) -> dict:
    """The routing facts every conversation event carries (conversations/events.py)."""
    return {"conversation_id": conversation.id, "customer_id": conversation.customer_id,
            "line_of_business_id": conversation.line_of_business_id, "queue_id": conversation.queue_id,
            "channel_id": conversation.channel_id, "state": conversation.state,
            "watchers": tuple(conversation.watchers or ())}
