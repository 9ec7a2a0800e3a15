"""Every read of conversations and messages, scoped to who is asking.

The scope comes from the permission model (`accounts.permissions`): querysets are built
on `staff_scope`, single objects are fetched through `access_conversation`, which answers
NotFound for anything the principal may not see (another customer's conversation is never
confirmed) and Forbidden when they may see it but not do the action."""
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from branchline.accounts.models import User
from branchline.accounts.permissions import Action, StaffScope, can, staff_scope
from branchline.accounts.principals import Principal
from branchline.contacts.models import Contact, Customer, CustomerContact
from branchline.core import language, sentiment, sql
from branchline.core.errors import Forbidden, NotFound
from branchline.core.ids import MAX_ID, parse_id  # noqa: F401 - re-exported: callers name them here
from branchline.routing.selectors import granted_channel_ids, served_queue_ids, serves

from .models import (
    Attachment,
    Conversation,
    ConversationState,
    Kind,
    Message,
    Participant,
    Sender,
    Tag,
    Visibility,
)

RELATED = ("topic", "case__case_type", "case__status", "customer", "assigned_agent", "channel", "queue")
# The customer's contacts, one per line (the staff view names the conversation's line's).
CONTACT_LINKS = Prefetch("customer__contact_links", queryset=CustomerContact.objects.select_related("contact"))
# What a message's wire shapes read (payloads.py): pages are read as plain rows in plain
# SQL (core/sql.py), not as model instances through the ORM, which cost most of a 50-item
# page's time (bench/README.md, "History paging").
MESSAGE_FIELDS = ("id", "conversation_id", "seq", "staff_seq", "sender", "kind", "visibility", "author_id",
                  "subject_id", "body", "system_code", "client_message_id", "created_at", "attachment_id",
                  "latitude", "longitude")
_MESSAGE = sql.Columns(Message, MESSAGE_FIELDS, "m")
_MESSAGES = sql.Reader((_MESSAGE, ""))  # a page's messages, converted with one look-up of the engine
_ATTACHMENT = sql.Columns(Attachment, ("id", "name", "content_type", "category", "size"), "f")
_NAMED = ("id", "username", "first_name", "last_name")  # what User.display_name reads
_AUTHOR, _SUBJECT = sql.Columns(User, _NAMED, "a"), sql.Columns(User, _NAMED, "s")
_OPERATORS = {"": "=", "lt": "<", "gt": ">"}


class MessageRow(dict):
    """One message as read for the wire: the fields above as attributes, plus `names`
    ({user id: display name}) for the staff members it names."""

    __slots__ = ()

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _rows_sql(lookups: tuple[str, ...], order_by: str, limit: int) -> str:
    where = []
    for lookup in lookups:
        name, _, operator = lookup.partition("__")
        where.append(f"{sql.column(Message, name, 'm')} {_OPERATORS[operator]} %s")
    order = f"{sql.column(Message, order_by.lstrip('-'), 'm')} {'DESC' if order_by.startswith('-') else 'ASC'}"
    user_id = sql.column(User, "id")
    return (f"SELECT {_MESSAGE.sql()}, {_AUTHOR.sql()}, {_SUBJECT.sql()}, {_ATTACHMENT.sql()} "
            f"FROM {sql.table(Message)} m "
            f"LEFT JOIN {sql.table(User)} a ON a.{user_id} = {sql.column(Message, 'author_id', 'm')} "
            f"LEFT JOIN {sql.table(User)} s ON s.{user_id} = {sql.column(Message, 'subject_id', 'm')} "
            f"LEFT JOIN {sql.table(Attachment)} f ON f.{sql.column(Attachment, 'id')} = "
            f"{sql.column(Message, 'attachment_id', 'm')} "
            f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT {limit}")


def _bounded(value):
    """An integer beyond 64 bits compares like the largest (smallest) one: no database can
    take it as a parameter, and no id or number reaches it (a cursor of 2**70 means "all")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return max(-MAX_ID - 1, min(value, MAX_ID))
    return value


def message_rows(filters: dict, *, order_by: str, limit: int) -> list[MessageRow]:
    """Messages matching `filters` ({"customer_id": 7, "id__lt": 900}: equality, __lt, __gt),
    in `order_by` order ("-id"), at most `limit`, with the names of the staff they name
    read in the same statement."""
    lookups = tuple(filters)
    params = [_bounded(Message._meta.get_field(lookup.partition("__")[0]).get_db_prep_value(value, connection))
              for lookup, value in filters.items()]
    written = sql.written_limit(limit)
    found = sql.fetch(("message_rows", lookups, order_by, written), lambda: _rows_sql(lookups, order_by, written),
                      params)[:limit]
    width, named = len(MESSAGE_FIELDS), len(_NAMED)
    rows, names = [], {}
    for found_row, values in zip(found, _MESSAGES.rows(found)):
        row = MessageRow(values)
        for user_id, user, start in ((row["author_id"], _AUTHOR, width), (row["subject_id"], _SUBJECT, width + named)):
            if user_id is not None and user_id not in names:
                names[user_id] = user.instance(found_row, start).display_name
        row["names"] = names
        if row["attachment_id"] is not None:
            row["attachment"] = _ATTACHMENT.instance(found_row, width + 2 * named)
        rows.append(row)
    return rows


def _participated(user_id: int):
    return Participant.objects.filter(user_id=user_id).values("conversation_id")


def _served_q(user_id: int) -> Q:
    """Waiting in a queue `user_id` serves, from a channel they are granted."""
    return Q(state=ConversationState.WAITING, queue_id__in=served_queue_ids(user_id),
             channel_id__in=granted_channel_ids(user_id))


def _staff_q(scope: StaffScope) -> Q:
    in_line = Q(line_of_business_id__in=scope.line_of_business_ids)
    if scope.whole_line:
        return in_line
    return (Q(assigned_agent_id=scope.user_id) | Q(pk__in=_participated(scope.user_id))
            | (in_line & _served_q(scope.user_id)))


def conversations_visible_to(principal: Principal):
    if principal.is_customer:
        return Conversation.objects.filter(customer_id=principal.id)
    return Conversation.objects.filter(_staff_q(staff_scope(principal)))


def has_participated(principal: Principal, conversation_id: int) -> bool:
    return principal.is_staff and Participant.objects.filter(conversation_id=conversation_id,
                                                             user_id=principal.id).exists()


_CONVERSATION = sql.Columns(Conversation, tuple(f.name for f in Conversation._meta.concrete_fields))


def _conversation_sql() -> str:
    return f"SELECT {_CONVERSATION.sql()} FROM {sql.table(Conversation)} WHERE {sql.column(Conversation, 'id')} = %s"


def access_conversation(principal: Principal, conversation_id, action: Action = Action.VIEW, *,
                        for_update=False, related=True) -> Conversation:
    """The conversation, if `principal` may do `action` on it; NotFound or Forbidden if not.

    for_update takes a NO KEY UPDATE lock: new messages reference this row, and their
    foreign-key checks must not wait for it. related=False skips reading what a
    conversation's wire shape names (topic, case, customer, agent, channel), for callers
    that only need the conversation's own fields."""
    conversation_id = parse_id(conversation_id)
    if for_update or related:
        queryset = Conversation.objects.all()
        queryset = queryset.select_for_update(no_key=True) if for_update else queryset.select_related(*RELATED)
        conversation = queryset.filter(pk=conversation_id).first()
    else:  # the page reads' check, on every request of theirs
        found = sql.fetch(("conversation",), _conversation_sql, [conversation_id])
        conversation = _CONVERSATION.instance(found[0]) if found else None
    if conversation is None:
        raise NotFound(code="conversation_not_found")
    verdict = can(principal, action, conversation)
    # Having taken part, or serving its queue, only widens what staff may do: ask the
    # database only when the answer without it is a refusal (an assigned agent or a
    # supervisor never pays for it).
    participated = verdict is not None and has_participated(principal, conversation.id)
    if participated:
        verdict = can(principal, action, conversation, participated=True)
    if verdict is not None and principal is not None and principal.is_staff and (
            isinstance(verdict, NotFound) or conversation.state == ConversationState.WAITING) and serves(
            principal.id, conversation.queue_id, conversation.channel_id):
        verdict = can(principal, action, conversation, participated=participated, serves=True)
    if verdict is not None:
        raise verdict
    return conversation


def participant_of(conversation_id: int, principal: Principal) -> Participant | None:
    if principal.is_customer:
        return Participant.objects.filter(conversation_id=conversation_id, role="customer").first()
    return Participant.objects.filter(conversation_id=conversation_id, user_id=principal.id).first()


def _my_read_mark(principal: Principal):
    return Coalesce(Subquery(Participant.objects.filter(conversation_id=OuterRef("pk"), user_id=principal.id)
                             .values("read_seq")[:1]), 0)


def unread_for_staff(queryset, principal: Principal):
    """Annotate `unread`: the customer's messages after this member of staff's read mark."""
    return queryset.annotate(my_read_seq=_my_read_mark(principal)).annotate(
        unread=Count("messages", filter=Q(messages__sender=Sender.CUSTOMER,
                                          messages__staff_seq__gt=F("my_read_seq"))))


def conversations_for_staff(principal: Principal, *, state: str, whole_line: bool = False, limit: int = 100,
                            customer_name: str = "", tag_id: int | None = None):
    """A console list with unread counts in one query. Waiting: the queues the member of
    staff serves, from the channels they are granted (their whole line for supervisors),
    newest first (so a flood of old guests never hides a new customer).
    Active and ended: the ones they handle or handled; with `whole_line`, every one of
    their line(s) of business (supervisors watching live, administrators, auditors).
    `customer_name`: only signed-in customers whose name holds it (finding whom to write to
    again from Ended); `tag_id`: only those carrying that tag."""
    scope = staff_scope(principal)
    if whole_line:
        if not scope.whole_line:
            raise Forbidden(_("Only supervisors, administrators and auditors see the whole line of business."),
                            code="role_forbidden")
        queryset = Conversation.objects.filter(state=state, line_of_business_id__in=scope.line_of_business_ids)
        queryset = queryset.order_by("-last_message_at")
    elif state == ConversationState.WAITING:
        queryset = Conversation.objects.filter(line_of_business_id__in=scope.line_of_business_ids)
        if not scope.whole_line:
            queryset = queryset.filter(_served_q(scope.user_id))
        queryset = queryset.filter(state=state).order_by("-created_at", "-id")
    elif state == ConversationState.ACTIVE:
        queryset = Conversation.objects.filter(state=state).filter(
            Q(assigned_agent_id=scope.user_id)
            | Q(Exists(Participant.objects.filter(conversation_id=OuterRef("pk"), user_id=scope.user_id,
                                                  left_at__isnull=True)))
        ).order_by("-last_message_at")
    else:
        queryset = Conversation.objects.filter(state=state, pk__in=_participated(scope.user_id))
        queryset = queryset.order_by("-last_message_at")
    if customer_name.strip():
        queryset = queryset.filter(customer__is_authenticated=True, customer__name__icontains=customer_name.strip())
    if tag_id is not None:
        queryset = queryset.filter(tags__id=tag_id)
    read = queryset.select_related(*RELATED).prefetch_related("tags", CONTACT_LINKS)
    return list(unread_for_staff(read, principal)[:limit])


def staff_unread_count(conversation: Conversation, read_seq: int) -> int:
    """The customer's messages after a member of staff's read mark (a staff_seq)."""
    return conversation.messages.filter(sender=Sender.CUSTOMER, staff_seq__gt=read_seq).count()


def conversation_snapshot_for_staff(conversation_id: int) -> tuple[Conversation, int]:
    """One snapshot every member of staff shares: its read mark (`my_read_seq`) and unread
    count are the bank side's as a whole, the furthest any member of staff read."""
    conversation = Conversation.objects.select_related(*RELATED).get(pk=conversation_id)
    conversation.my_read_seq = max(Participant.objects.filter(conversation_id=conversation_id, user__isnull=False)
                                   .values_list("read_seq", flat=True), default=0)
    unread = conversation.messages.filter(sender=Sender.CUSTOMER, staff_seq__gt=conversation.my_read_seq).count()
    return conversation, unread


def customer_unread_count(customer_id: int) -> int:
    """Messages from the bank the customer has not read yet, across conversations."""
    return (
        Message.objects.filter(customer_id=customer_id, visibility=Visibility.PUBLIC)
        .exclude(sender=Sender.CUSTOMER)
        .filter(seq__gt=F("conversation__customer_read_seq"))
        .count()
    )


def customer_open_conversation(customer_id: int) -> Conversation | None:
    return (
        Conversation.objects.filter(customer_id=customer_id)
        .exclude(state=ConversationState.ENDED)
        .select_related(*RELATED)
        .order_by("-created_at")
        .first()
    )


def customer_current_conversation(customer_id: int) -> Conversation | None:
    """What the widget shows: the open conversation, else the latest one."""
    return customer_open_conversation(customer_id) or (
        Conversation.objects.filter(customer_id=customer_id).select_related(*RELATED).order_by("-created_at").first()
    )


def messages_for_customer_before(customer_id: int, *, before_id: int | None, limit: int) -> list[MessageRow]:
    """A page of what the customer may read of their whole history (all conversations),
    newest first: keyset on the (customer, id) index of public items."""
    filters = {"customer_id": customer_id, "visibility": Visibility.PUBLIC}
    if before_id is not None:
        filters["id__lt"] = before_id
    return message_rows(filters, order_by="-id", limit=limit)


def history_for_staff_before(principal: Principal, conversation_id, *, before_id: int | None,
                             limit: int) -> list[MessageRow]:
    """The customer's whole history as staff may read it (notes included), across every
    conversation, channel and case of theirs, for whoever may see one of those
    conversations. Newest first, keyset on (customer, id)."""
    conversation = access_conversation(principal, conversation_id, related=False)
    return customer_history_before(conversation.customer_id, before_id=before_id, limit=limit)


DOCUMENTS_MAX = 200


def documents_for_staff(principal: Principal, conversation_id, *, everything: bool = False) -> list[Message]:
    """The items carrying files in this conversation, or (`everything`) in all of its
    customer's conversations, as staff may read them (notes' files included), newest first."""
    conversation = access_conversation(principal, conversation_id, related=False)
    where = {"customer_id": conversation.customer_id} if everything else {"conversation_id": conversation.id}
    return list(Message.objects.filter(**where, attachment__isnull=False).select_related("attachment", "author")
                .order_by("-id")[:DOCUMENTS_MAX])


def customer_history_before(customer_id: int, *, before_id: int | None, limit: int) -> list[MessageRow]:
    """A customer's whole history (notes included), newest first: for a caller that has
    already checked who may read it."""
    filters = {"customer_id": customer_id}
    if before_id is not None:
        filters["id__lt"] = before_id
    return message_rows(filters, order_by="-id", limit=limit)


def messages_in_conversation_before(conversation: Conversation, *, before_seq: int | None,
                                    limit: int) -> list[MessageRow]:
    """A page of one conversation's staff stream, newest first."""
    filters = {"conversation_id": conversation.id}
    if before_seq is not None:
        filters["staff_seq__lt"] = before_seq
    return message_rows(filters, order_by="-staff_seq", limit=limit)


def messages_missed(principal: Principal, cursors: dict[int, int], *,
                    limit_per_conversation: int = 1000) -> list[MessageRow]:
    """Items after each cursor in the principal's own stream (public for customers, staff
    for staff), for the conversations they may see, in stream order per conversation.
    Used to resume a socket and to resync after a bus outage."""
    if not cursors:
        return []
    visible = set(conversations_visible_to(principal).filter(pk__in=list(cursors)).values_list("pk", flat=True))
    number = "seq" if principal.is_customer else "staff_seq"
    missed: list[MessageRow] = []
    for conversation_id in sorted(visible):
        missed.extend(message_rows({"conversation_id": conversation_id, f"{number}__gt": cursors[conversation_id]},
                                   order_by=number, limit=limit_per_conversation))
    return missed


INSIGHT_MESSAGES = 10  # the customer's latest messages the language is read from
MOOD_MESSAGES = 3  # ...and the tone: how they sound now


def conversation_insights(principal: Principal, conversation_id) -> dict:
    """The language the customer writes in and how they sound now, computed here from their
    latest messages with no network call (core/language.py, core/sentiment.py; docs/adr/0023):
    {"language": "pl" | None, "sentiment": "negative" | "neutral" | "positive" | None,
    "sentiment_score": -1..1 | None, "messages": how many were read}."""
    conversation = access_conversation(principal, conversation_id, related=False)
    texts = list(Message.objects.filter(conversation_id=conversation.id, sender=Sender.CUSTOMER,
                                        kind__in=(Kind.TEXT, Kind.FILE)).exclude(body="")
                 .order_by("-staff_seq").values_list("body", flat=True)[:INSIGHT_MESSAGES])[::-1]
    found = language.detect("\n".join(texts)[-2000:]) if texts else None
    score = sentiment.score("\n".join(texts[-MOOD_MESSAGES:]), found) if found else None
    return {"language": found, "sentiment": None if score is None else sentiment.label(score),
            "sentiment_score": None if score is None else round(score, 2), "messages": len(texts)}


CONTACT_MATCHES = 10


def contacts_visible_to(principal: Principal):
    """The contacts (the customer base staff record) a member of staff may find: those of their
    line of business."""
    scope = staff_scope(principal)
    if not principal.is_staff or not scope.line_of_business_ids:
        return Contact.objects.none()
    return Contact.objects.filter(line_of_business_id__in=scope.line_of_business_ids)


def contacts_matching(principal: Principal, q: str) -> list:
    """Search as you type: contacts whose names, e-mail or phone start with each word of `q`
    (at least 2 characters), by name, at most CONTACT_MATCHES."""
    words = q.split()
    if len("".join(words)) < 2:
        return []
    found = contacts_visible_to(principal)
    for word in words[:5]:
        found = found.filter(Q(first_name__istartswith=word) | Q(last_name__istartswith=word)
                             | Q(email__istartswith=word) | Q(phone__contains=word))
    return list(found.order_by("last_name", "first_name", "id")[:CONTACT_MATCHES])


def contacts_page(principal: Principal, *, q: str = "", barred: bool | None = None, before_id: int | None = None,
                  limit: int = 50) -> list:
    """The Contacts page (docs/protocol.md §13), newest customer first, keyset on id: the
    customers who wrote to the principal's line of business (supervisors, administrators,
    auditors) or whose conversations an agent took part in. Signed-in customers, and guests
    only while barred or once Recognized (related to a contact). `q`: in the name of a
    signed-in customer or of the contact; `barred`: only barred (True) or not barred (False)."""
    scope = staff_scope(principal)
    if scope.whole_line:
        theirs = Conversation.objects.filter(customer_id=OuterRef("pk"),
                                             line_of_business_id__in=scope.line_of_business_ids)
    else:
        theirs = Conversation.objects.filter(customer_id=OuterRef("pk"), pk__in=_participated(scope.user_id))
    # Recognized by a contact of the reader's line (another line's contacts stay that line's).
    lines = scope.line_of_business_ids
    ours = CustomerContact.objects.filter(customer_id=OuterRef("pk"), line_of_business_id__in=lines)
    customers = (Customer.objects.filter(Exists(theirs))
                 .filter(Q(is_authenticated=True) | Q(barred_at__isnull=False) | Exists(ours))
                 .prefetch_related(Prefetch("contact_links", queryset=CustomerContact.objects.select_related("contact")
                                            .filter(line_of_business_id__in=lines))))
    if q.strip():
        named = Q(is_authenticated=True, name__icontains=q.strip())
        for word in q.split()[:5]:
            named |= Exists(ours.filter(Q(contact__first_name__icontains=word) | Q(contact__last_name__icontains=word)))
        customers = customers.filter(named)
    if barred is not None:
        customers = customers.filter(barred_at__isnull=not barred)
    if before_id is not None:
        customers = customers.filter(pk__lt=before_id)
    return list(customers.order_by("-pk")[:limit])


def tags_of_line(line_of_business_id: int | None) -> list:
    return list(Tag.objects.filter(line_of_business_id=line_of_business_id)) if line_of_business_id else []
