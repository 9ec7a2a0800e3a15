"""Every write to conversations and messages, whether it comes from the API, a page, a
socket frame, a connector or a sweep. Each action checks permission, writes in one
transaction and publishes its events after commit."""
import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branchline.accounts.principals import Principal
from branchline.cases.actions import case_open_for_conversation
from branchline.cases.models import Topic
from branchline.connectors.models import web_channel
from branchline.contacts.models import Customer
from branchline.core import ratelimit
from branchline.core.errors import Conflict, InvalidInput, NotFound
from branchline.events import Event, publish
from branchline.realtime import audiences

from .models import Conversation, ConversationState, EndReason, Message, Sender, SystemCode
from .payloads import conversation_for_customer, conversation_for_staff, message_payload
from .selectors import RELATED, access_conversation, access_queue_conversation, staff_unread_count

CLIENT_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _limits():
    return settings.BRANCHLINE


def clean_body(body) -> str:
    if not isinstance(body, str):
        raise InvalidInput(_("The message must be text."), code="message_invalid")
    body = body.strip()
    if not body:
        raise InvalidInput(_("The message is empty."), code="message_empty")
    limit = _limits()["MESSAGE_MAX_CHARS"]
    if len(body) > limit:
        raise InvalidInput(_("The message is longer than %(limit)s characters.") % {"limit": limit},
                           code="message_too_long")
    if "\x00" in body:
        raise InvalidInput(_("The message contains a NUL character."), code="message_invalid")
    return body


def clean_client_message_id(value) -> str:
    if not isinstance(value, str) or not CLIENT_MESSAGE_ID.match(value):
        raise InvalidInput(
            _("client_message_id must be 1-64 characters: letters, digits, '_', '-', '.', ':'."),
            code="client_message_id_invalid",
        )
    return value


def _rate_limit(principal: Principal) -> None:
    limits = _limits()
    ratelimit.hit(f"msg:{principal.kind}:{principal.id}", rate=limits["MESSAGE_RATE_PER_SECOND"],
                  burst=limits["MESSAGE_RATE_BURST"])


def _conversation_audiences(conversation: Conversation) -> tuple[str, ...]:
    """Who follows a conversation's numbered stream: its customer, and its agent or,
    while it waits, the staff of its queue."""
    keys = [audiences.customer(conversation.customer_id)]
    if conversation.assigned_agent_id:
        keys.append(audiences.staff(conversation.assigned_agent_id))
    elif conversation.state == ConversationState.WAITING:
        keys.append(audiences.queue(conversation.line_of_business_id))
    return tuple(keys)


# One statement takes a conversation's next seq: the UPDATE locks the row (so seqs are
# allocated, and committed, in order) and returns what the message and its audiences
# need. Plain SQL with RETURNING, which PostgreSQL and SQLite (3.35+) both speak.
_ALLOCATE_SEQ = (
    "UPDATE {table} SET last_seq = last_seq + 1, last_message_at = %s WHERE {where} "
    "RETURNING id, last_seq, state, customer_id, assigned_agent_id, line_of_business_id"
)
_OPEN_OF_CUSTOMER = (
    "state <> 'ended' AND id = (SELECT id FROM {table} WHERE customer_id = %s AND state <> 'ended' "
    "ORDER BY created_at DESC LIMIT 1)"
)


def _allocate_seq(where: str, params: list) -> Conversation | None:
    table = Conversation._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_ALLOCATE_SEQ.format(table=table, where=where.format(table=table)),
                       [connection.ops.adapt_datetimefield_value(now), *params])
        row = cursor.fetchone()
    if row is None:
        return None
    id_, seq, state, customer_id, agent_id, lob_id = row
    return Conversation(id=id_, last_seq=seq, state=state, customer_id=customer_id, assigned_agent_id=agent_id,
                        line_of_business_id=lob_id, last_message_at=now)


def _append(conversation_id: int, *, sender, system_code="", agent=None) -> Message:
    """Add a system message (agent_joined, ended, ...) inside the caller's transaction."""
    conversation = _allocate_seq("id = %s", [conversation_id])
    return _insert(conversation, sender=sender, system_code=system_code, agent_id=agent.id if agent else None,
                   agent_name=agent.display_name if agent else None)


_INSERT_MESSAGE = (
    "INSERT INTO {table} (conversation_id, customer_id, seq, sender, agent_id, body, system_code, "
    "client_message_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)


def _insert(conversation: Conversation, *, sender, body="", system_code="", client_message_id=None,
            agent_id=None, agent_name=None) -> Message:
    """Store the message holding the seq just taken, and publish it after commit.

    Plain SQL like _allocate_seq: this is the hottest write, and the ORM's query building
    cost about a fifth of a send's Python time (bench/README.md)."""
    message = Message(conversation_id=conversation.id, customer_id=conversation.customer_id,
                      seq=conversation.last_seq, sender=sender, agent_id=agent_id, body=body,
                      system_code=system_code, client_message_id=client_message_id,
                      created_at=conversation.last_message_at)
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_MESSAGE.format(table=Message._meta.db_table), [
            message.conversation_id, message.customer_id, message.seq, sender, agent_id, body, system_code,
            client_message_id, connection.ops.adapt_datetimefield_value(message.created_at)])
        message.id = cursor.fetchone()[0]
    message._state.adding, message._state.db = False, connection.alias
    publish(
        Event(
            "message.created",
            _conversation_audiences(conversation),
            {"message": message_payload(message, agent_name=agent_name)},
            conversation_id=conversation.id,
            seq=message.seq,
        )
    )
    return message


def _publish_conversation_updated(conversation_id: int) -> None:
    """Tell each side the conversation's new state, in the shape it may see. The queue
    sees full snapshots only while a conversation waits; after that, only that it left."""
    conversation = Conversation.objects.select_related(*RELATED).get(pk=conversation_id)
    publish(Event("conversation.updated", (audiences.customer(conversation.customer_id),),
                  {"conversation": conversation_for_customer(conversation)}, conversation_id=conversation.id))
    staff_view = {"conversation": conversation_for_staff(conversation, unread_count=staff_unread_count(conversation))}
    if conversation.assigned_agent_id:
        publish(Event("conversation.updated", (audiences.staff(conversation.assigned_agent_id),), staff_view,
                      conversation_id=conversation.id))
    queue = (audiences.queue(conversation.line_of_business_id),)
    if conversation.state == ConversationState.WAITING:
        publish(Event("conversation.updated", queue, staff_view, conversation_id=conversation.id))
    else:
        publish(Event("queue.left", queue, {"conversation_id": conversation.id, "state": conversation.state},
                      conversation_id=conversation.id))


def customer_message_send(*, principal: Principal, body, client_message_id, topic_id=None) -> tuple[Message, bool]:
    """A customer writes. Joins their open conversation, or starts one (and its case) on
    the chosen topic. Returns (message, created); a retry with the same
    client_message_id returns the first message and creates nothing."""
    body = clean_body(body)
    client_message_id = clean_client_message_id(client_message_id)
    _rate_limit(principal)
    try:
        with transaction.atomic():
            conversation = _allocate_seq(_OPEN_OF_CUSTOMER, [principal.id])
            started = conversation is None
            if started:
                conversation, existing = _conversation_start(principal, topic_id, client_message_id)
                if existing:
                    return existing, False
            message = _insert(conversation, sender=Sender.CUSTOMER, body=body, client_message_id=client_message_id)
            if started:
                _publish_conversation_updated(conversation.id)
    except IntegrityError as error:  # a retry: the client id is already stored in this conversation
        return _retried(Message.objects.filter(customer_id=principal.id, sender=Sender.CUSTOMER),
                        client_message_id, error), False
    return message, True


def _retried(messages, client_message_id, error: IntegrityError) -> Message:
    """The message a retry refers to; the error again if it was something else."""
    existing = messages.filter(client_message_id=client_message_id).select_related("agent").first()
    if existing is None:
        raise error
    return existing


def _conversation_start(principal: Principal, topic_id, client_message_id) -> tuple[Conversation, Message | None]:
    """The customer has no open conversation: start one (and its case) on the topic.
    Returns (conversation with its first seq taken, None), or (None, the stored message)
    when this is a retry of a message that already started one."""
    # Their row lock serialises starts, so a retried first message cannot start a second
    # conversation. NO KEY: agents' new messages check their foreign key to this row.
    customer = Customer.objects.select_for_update(no_key=True).filter(pk=principal.id).first()
    if customer is None:
        raise NotFound()
    conversation = _allocate_seq(_OPEN_OF_CUSTOMER, [customer.id])  # started meanwhile?
    if conversation is not None:
        return conversation, None
    existing = Message.objects.filter(customer_id=customer.id, sender=Sender.CUSTOMER,
                                      client_message_id=client_message_id).select_related("agent").first()
    if existing:
        return None, existing
    if topic_id is None:
        raise InvalidInput(_("Choose a topic to start a conversation."), code="topic_required")
    if not isinstance(topic_id, int) or isinstance(topic_id, bool):
        raise InvalidInput(_("topic_id must be a topic's id."), code="topic_invalid")
    topic = Topic.objects.select_related("case_type").filter(pk=topic_id, is_active=True).first()
    if topic is None:
        raise NotFound(_("That topic does not exist."), code="topic_not_found")
    case = case_open_for_conversation(customer=customer, topic=topic)
    started = Conversation.objects.create(
        customer=customer,
        case=case,
        topic=topic,
        channel=web_channel(),
        line_of_business_id=topic.case_type.line_of_business_id,
    )
    return _allocate_seq("id = %s", [started.id]), None


def _user(principal: Principal):
    from branchline.accounts.models import User

    return User.objects.get(pk=principal.id)


def _conversation_id(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise NotFound(code="conversation_not_found")
    try:
        return int(value)
    except ValueError:
        raise NotFound(code="conversation_not_found") from None


def agent_message_send(*, principal: Principal, conversation_id, body, client_message_id) -> tuple[Message, bool]:
    body = clean_body(body)
    client_message_id = clean_client_message_id(client_message_id)
    conversation_id = _conversation_id(conversation_id)
    _rate_limit(principal)
    sent_by_agent = Message.objects.filter(conversation_id=conversation_id, sender=Sender.AGENT)
    try:
        with transaction.atomic():
            conversation = _allocate_seq("id = %s AND assigned_agent_id = %s AND state = 'active'",
                                         [conversation_id, principal.id])
            if conversation is None:  # explain why, or recognise a retry
                access_conversation(principal, conversation_id)
                existing = sent_by_agent.filter(client_message_id=client_message_id).select_related("agent").first()
                if existing:
                    return existing, False
                raise Conflict(_("Take the conversation before writing in it; ended conversations are closed."),
                               code="conversation_not_active")
            message = _insert(conversation, sender=Sender.AGENT, body=body, client_message_id=client_message_id,
                              agent_id=principal.id, agent_name=principal.display_name)
    except IntegrityError as error:
        return _retried(sent_by_agent, client_message_id, error), False
    return message, True


def conversation_accept(*, principal: Principal, conversation_id) -> Conversation:
    """An agent takes a waiting conversation. Of two agents accepting at once, exactly
    one wins; the other gets Conflict."""
    with transaction.atomic():
        conversation = access_queue_conversation(principal, conversation_id, for_update=True)
        if conversation.state == ConversationState.ENDED:
            raise Conflict(_("This conversation has ended."), code="conversation_ended")
        if conversation.state != ConversationState.WAITING:
            if conversation.assigned_agent_id == principal.id:
                return conversation  # a retried accept
            raise Conflict(_("Another agent has already taken this conversation."), code="already_taken")
        agent = _user(principal)
        conversation.state = ConversationState.ACTIVE
        conversation.assigned_agent = agent
        conversation.accepted_at = timezone.now()
        conversation.save(update_fields=["state", "assigned_agent", "accepted_at"])
        _append(conversation.id, sender=Sender.SYSTEM, agent=agent, system_code=SystemCode.AGENT_JOINED)
        _publish_conversation_updated(conversation.id)
    return conversation


def conversation_end(*, principal: Principal, conversation_id) -> Conversation:
    with transaction.atomic():
        conversation = access_conversation(principal, conversation_id, for_update=True)
        if conversation.state == ConversationState.ENDED:
            return conversation
        if conversation.assigned_agent_id != principal.id:
            raise Conflict(_("Only the agent handling the conversation can end it."), code="conversation_not_active")
        _end(conversation, EndReason.AGENT, SystemCode.ENDED)
    return conversation


def _end(conversation: Conversation, reason: str, system_code: str) -> None:
    conversation.state = ConversationState.ENDED
    conversation.ended_at = timezone.now()
    conversation.end_reason = reason
    conversation.save(update_fields=["state", "ended_at", "end_reason"])
    _append(conversation.id, sender=Sender.SYSTEM, system_code=system_code)
    _publish_conversation_updated(conversation.id)


def conversations_end_abandoned(*, grace_seconds: int | None = None) -> int:
    """Anonymous customers are live only: end the open conversations of those whose
    sockets have all been gone for longer than the grace period. Idempotent; every
    gateway process runs it periodically."""
    grace = grace_seconds if grace_seconds is not None else _limits()["ANONYMOUS_GRACE_SECONDS"]
    cutoff = timezone.now() - timedelta(seconds=grace)
    candidates = list(
        Conversation.objects.exclude(state=ConversationState.ENDED)
        .filter(customer__is_authenticated=False, customer__last_seen_at__lt=cutoff)
        .values_list("pk", flat=True)[:500]
    )
    ended = 0
    for conversation_id in candidates:
        with transaction.atomic():
            conversation = (
                Conversation.objects.select_for_update(no_key=True, of=("self",))
                .filter(pk=conversation_id, customer__last_seen_at__lt=cutoff)
                .exclude(state=ConversationState.ENDED)
                .first()
            )
            if conversation is not None:
                _end(conversation, EndReason.CUSTOMER_LEFT, SystemCode.CUSTOMER_LEFT)
                ended += 1
    return ended


def customers_seen(customer_ids) -> None:
    """The gateway's heartbeat: these customers have a socket open right now."""
    if customer_ids:
        Customer.objects.filter(pk__in=list(customer_ids)).update(last_seen_at=timezone.now())


def receipt_update(*, principal: Principal, conversation_id, delivered_seq=None, read_seq=None) -> Conversation:
    """Move this side's delivered/read marks forward (never back) and tell both sides."""
    marks = {}
    for name, value in (("delivered_seq", delivered_seq), ("read_seq", read_seq)):
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidInput(_("%(name)s must be a non-negative whole number.") % {"name": name}, code="seq_invalid")
        marks[name] = value
    if not marks:
        raise InvalidInput(_("Give delivered_seq or read_seq."), code="seq_invalid")
    side = "customer" if principal.is_customer else "agent"
    with transaction.atomic():
        conversation = access_conversation(principal, conversation_id, for_update=True)
        if principal.is_staff and conversation.assigned_agent_id != principal.id:
            raise Conflict(_("Only the agent handling the conversation sends receipts."),
                           code="conversation_not_active")
        changed = []
        if "read_seq" in marks:  # what was read was delivered too
            marks["delivered_seq"] = max(marks.get("delivered_seq", 0), marks["read_seq"])
        for name, value in marks.items():
            field = f"{side}_{name}"
            value = min(value, conversation.last_seq)
            if value > getattr(conversation, field):
                setattr(conversation, field, value)
                changed.append(field)
        if changed:
            conversation.save(update_fields=changed)
            publish(
                Event(
                    "receipt.updated",
                    _conversation_audiences(conversation),
                    {
                        "conversation_id": conversation.id,
                        "side": side,
                        "delivered_seq": getattr(conversation, f"{side}_delivered_seq"),
                        "read_seq": getattr(conversation, f"{side}_read_seq"),
                    },
                    conversation_id=conversation.id,
                )
            )
    return conversation


def typing_signal(*, principal: Principal, conversation_id, is_typing) -> None:
    """Ephemeral: nothing is stored. Goes to the other side only."""
    if not isinstance(is_typing, bool):
        raise InvalidInput(_("is_typing must be true or false."), code="typing_invalid")
    conversation = access_conversation(principal, conversation_id)
    if conversation.state == ConversationState.ENDED:
        return
    if principal.is_customer:
        targets = tuple(k for k in _conversation_audiences(conversation) if not audiences.is_customer_audience(k))
    else:
        if conversation.assigned_agent_id != principal.id:
            return
        targets = (audiences.customer(conversation.customer_id),)
    publish(Event("typing", targets, {"conversation_id": conversation.id,
                                      "sender": "customer" if principal.is_customer else "agent",
                                      "is_typing": is_typing}, conversation_id=conversation.id))
