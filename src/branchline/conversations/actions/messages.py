"""Writing in a conversation: customers' and staff's messages, internal notes, receipts,
typing. Each action checks permission, writes in one transaction and publishes after commit."""
import functools
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branchline.accounts.permissions import Action
from branchline.accounts.principals import Principal
from branchline.cases.actions import case_open_for_conversation
from branchline.cases.models import Case, Topic
from branchline.connectors.actions import channel_web
from branchline.contacts.models import Customer
from branchline.core import ratelimit, sql
from branchline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from branchline.events import Actor, publish
from branchline.routing.actions import queue_default_ensure

from ..events import ConversationStarted, ReceiptUpdated, StaffViewing, TypingChanged
from ..models import (
    Attachment,
    Conversation,
    ConversationState,
    EndReason,
    Kind,
    Message,
    Participant,
    ParticipantRole,
    Sender,
    SystemCode,
    Visibility,
)
from ..selectors import access_conversation, parse_id, participant_of
from . import streams
from .contacts import barred_refusal, customer_dropped
from .files import attachment_to_send, check_carries
from .lines import conversation_close

CLIENT_MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # fullmatch: "$" would let a trailing newline in


def _limits():
    return settings.BRANCHLINE


def clean_body(body, *, required: bool = True) -> str:
    """The message's text, stripped. `required` False: it may be empty (a file's caption)."""
    if body is None and not required:
        return ""
    if not isinstance(body, str):
        raise InvalidInput(_("The message must be text."), code="message_invalid")
    body = body.strip()
    if not body and required:
        raise InvalidInput(_("The message is empty."), code="message_empty")
    limit = _limits()["MESSAGE_MAX_CHARS"]
    if len(body) > limit:
        raise InvalidInput(_("The message is longer than %(limit)s characters.") % {"limit": limit},
                           code="message_too_long")
    if "\x00" in body:
        raise InvalidInput(_("The message contains a NUL character."), code="message_invalid")
    return body


def clean_note(note) -> str:
    """A note staff may add to an action (a transfer, a move, a rejection): empty, or text
    under a message's rules."""
    return clean_body(note) if isinstance(note, str) and note.strip() else ""


def clean_client_message_id(value) -> str:
    if not isinstance(value, str) or not CLIENT_MESSAGE_ID.fullmatch(value):
        raise InvalidInput(
            _("client_message_id must be 1-64 characters: letters, digits, '_', '-', '.', ':'."),
            code="client_message_id_invalid",
        )
    return value


def clean_visibility(value) -> str:
    if value not in (Visibility.PUBLIC, Visibility.STAFF):
        raise InvalidInput(_("visibility is public or staff."), code="visibility_invalid")
    return value


def _rate_limit(principal: Principal) -> None:
    limits = _limits()
    ratelimit.hit(f"msg:{principal.kind}:{principal.id}", rate=limits["MESSAGE_RATE_PER_SECOND"],
                  burst=limits["MESSAGE_RATE_BURST"])


@functools.cache
def _open_of_customer() -> str:
    """The customer's newest open conversation, unless its case was resolved longer ago than
    the post-resolve window (docs/protocol.md §11): a "Thank you" right after the agent
    resolved the case joins it; a message long after starts anew. Params: customer id, cutoff."""
    cases, conversations = sql.table(Case), "{table}"
    return (
        f"state <> '{ConversationState.ENDED}' AND id = (SELECT id FROM {conversations} WHERE customer_id = %s "
        f"AND state <> '{ConversationState.ENDED}' ORDER BY created_at DESC LIMIT 1) "
        f"AND NOT EXISTS (SELECT 1 FROM {cases} WHERE {cases}.{sql.column(Case, 'id')} = {conversations}.case_id "
        f"AND {cases}.{sql.column(Case, 'resolved_at')} < %s)"
    )


def _post_resolve_cutoff():
    return timezone.now() - timedelta(seconds=_limits()["CASE_POST_RESOLVE_SECONDS"])


def _open_params(customer_id: int, cutoff=None) -> list:
    return [customer_id, connection.ops.adapt_datetimefield_value(cutoff or _post_resolve_cutoff())]


_HANDLED_BY = f"id = %s AND assigned_agent_id = %s AND state = '{ConversationState.ACTIVE}'"


def _retried(messages, client_message_id, error: IntegrityError, attachment=None) -> Message:
    """The message a retry refers to; the error again if it was something else (a file
    another send of the same sender took meanwhile: file_already_sent)."""
    existing = (messages.filter(client_message_id=client_message_id)
                .select_related("author", "subject", "attachment").first())
    if existing is None and attachment is not None and not Attachment.objects.filter(pk=attachment.pk).exists():
        raise NotFound(_("That file does not exist. Upload it first."), code="file_not_found") from error
    if existing is None and attachment is not None and Message.objects.filter(attachment=attachment).exists():
        raise InvalidInput(_("That file was sent already; upload it again to send it again."),
                           code="file_already_sent") from error
    if existing is None:
        raise error
    return existing


def customer_message_send(*, principal: Principal, body, client_message_id, topic_id=None,
                          attachment_id=None) -> tuple[Message, bool]:
    """A customer writes. Joins their open conversation, or starts one (and its case) on
    the chosen topic. A conversation whose case was resolved joins the resolved case within
    the post-resolve window; after it, that conversation ends and a new one starts, on the
    same topic unless another is chosen (docs/protocol.md §11). Returns (message, created).
    A client id names one message of this customer for good: a retry with it returns the
    first message and creates nothing, even after that conversation ended and another began.
    With `attachment_id` it sends a file they uploaded (attachment_upload), the body its
    caption, which may then be empty."""
    client_message_id = clean_client_message_id(client_message_id)
    attachment = None
    if attachment_id is not None:
        retried = _customer_retry(principal, client_message_id)
        if retried is not None:
            return retried, False
        attachment = attachment_to_send(principal, attachment_id)
        check_carries(channel_web(), attachment.category)
    body = clean_body(body, required=attachment is None)
    _rate_limit(principal)
    actor = Actor.of(principal)
    fields = {"sender": Sender.CUSTOMER, "body": body, "client_message_id": client_message_id,
              "kind": Kind.FILE if attachment else Kind.TEXT, "attachment": attachment}
    try:
        # The common case, in one statement: their open conversation.
        message = streams.append(_open_of_customer(), _open_params(principal.id), actor=actor, **fields)
        if message is None:
            if Customer.objects.filter(pk=principal.id, barred_at__isnull=False).exists():
                stored = Message.objects.filter(customer_id=principal.id, sender=Sender.CUSTOMER,
                                                client_message_id=client_message_id).first()
                if stored is not None:  # a retry of what they sent before the bar
                    return stored, False
                customer_dropped(principal.id)  # it reaches nobody; counted
                raise barred_refusal()
            with transaction.atomic():
                conversation, started, existing = _conversation_start(principal, topic_id, client_message_id, actor)
                if existing:
                    return existing, False
                message = streams.insert(conversation, actor=actor, **fields)
                if started:
                    started_row = Conversation.objects.values("topic_id", "case_id").get(pk=conversation.id)
                    publish(ConversationStarted(actor=actor, **started_row, **streams.routing(conversation)))
    except IntegrityError as error:  # a retry: the client id is already stored
        sent_by_customer = Message.objects.filter(customer_id=principal.id, sender=Sender.CUSTOMER)
        return _retried(sent_by_customer, client_message_id, error, attachment), False
    return message, True


def _customer_retry(principal: Principal, client_message_id: str) -> Message | None:
    """A file message stored before under this client id: its retry must not be refused for
    sending the (now sent) file again."""
    return (Message.objects.select_related("author", "subject", "attachment")
            .filter(customer_id=principal.id, sender=Sender.CUSTOMER, client_message_id=client_message_id).first())


def _conversation_start(principal: Principal, topic_id, client_message_id,
                        actor: Actor) -> tuple[Conversation | None, bool, Message | None]:
    """The customer had no open conversation: start one (and its case) on the topic.
    Returns (conversation with its next numbers taken, whether it was started here, None),
    or (None, False, the stored message) when this is a retry of a message that already
    started one."""
    # Their row lock serialises starts, so a retried first message cannot start a second
    # conversation. NO KEY: agents' new messages check their foreign key to this row.
    customer = Customer.objects.select_for_update(no_key=True).filter(pk=principal.id).first()
    if customer is None:
        raise NotFound()
    if customer.barred_at is not None:  # barred since the check before this transaction
        raise barred_refusal()
    cutoff = _post_resolve_cutoff()
    conversation = streams.allocate(_open_of_customer(), _open_params(customer.id, cutoff), public=True,
                                    customer=True)
    if conversation is not None:  # started meanwhile
        return conversation, False, None
    existing = Message.objects.filter(customer_id=customer.id, sender=Sender.CUSTOMER,
                                      client_message_id=client_message_id).first()
    if existing:
        return None, False, existing
    stale = (Conversation.objects.select_for_update(no_key=True).filter(customer_id=customer.id)
             .exclude(state=ConversationState.ENDED).order_by("-created_at").first())
    if stale is not None and not _resolved_before(stale.case_id, cutoff):
        # Its case was reopened since the check (status changes lock the conversation first):
        # the message joins it after all.
        return streams.allocate_by_id(stale.id, public=True, customer=True), False, None
    if stale is not None:  # open, but its case was resolved before the post-resolve window
        conversation_close(stale, EndReason.CASE_RESOLVED, SystemCode.ENDED, actor)
        if topic_id is None:  # the new case is on the same topic, unless the customer chose one
            topic = Topic.objects.select_related("case_type").get(pk=stale.topic_id)
            return _started(customer, topic), True, None
    return _started(customer, _topic(topic_id)), True, None


def _resolved_before(case_id: int, cutoff) -> bool:
    resolved_at = Case.objects.filter(pk=case_id).values_list("resolved_at", flat=True).first()
    return resolved_at is not None and resolved_at < cutoff


def _topic(topic_id) -> Topic:
    if topic_id is None:
        raise InvalidInput(_("Choose a topic to start a conversation."), code="topic_required")
    if not isinstance(topic_id, int) or isinstance(topic_id, bool):
        raise InvalidInput(_("topic_id must be a topic's id."), code="topic_invalid")
    topic = Topic.objects.select_related("case_type").filter(pk=parse_id(topic_id, code="topic_not_found"),
                                                             is_active=True).first()
    if topic is None:
        raise NotFound(_("That topic does not exist."), code="topic_not_found")
    return topic


def _started(customer: Customer, topic: Topic) -> Conversation:
    """The customer's new conversation on `topic`, waiting, its next numbers taken."""
    return streams.allocate_by_id(conversation_open(customer=customer, topic=topic).id, public=True, customer=True)


def conversation_open(*, customer: Customer, topic: Topic, **fields) -> Conversation:
    """A new conversation of the customer on `topic` (its customer a participant), in the
    customer's open case of the topic's case type or a new case, waiting in the topic's
    queue (or its line's default queue); `fields` for the rest
    (outbound: its state and agent). Call inside the caller's transaction, the customer's
    row locked."""
    case = case_open_for_conversation(customer=customer, topic=topic)
    queue_id = topic.queue_id or queue_default_ensure(case.line_of_business_id).id
    started = Conversation.objects.create(customer=customer, case=case, topic=topic, channel=channel_web(),
                                          line_of_business_id=case.line_of_business_id, queue_id=queue_id, **fields)
    Participant.objects.create(conversation=started, role=ParticipantRole.CUSTOMER)
    return started


def staff_message_send(*, principal: Principal, conversation_id, body, client_message_id,
                       visibility=Visibility.PUBLIC, attachment_id=None, location=None) -> tuple[Message, bool]:
    """A member of staff writes: to the customer (public), or an internal note for staff
    only (a supervisor's note is a whisper). Public writing needs an active conversation
    they handle or joined; notes may also be added after it ended. Returns (message,
    created); a retry with the same client_message_id returns the first message.
    `attachment_id`: a file they uploaded for this conversation (the body its caption);
    `location` ({latitude, longitude}): where they are, to the customer (the body its label).
    Either must be something the conversation's channel carries, when it goes to the customer."""
    if not principal.is_staff:
        raise NotFound(code="conversation_not_found")
    client_message_id = clean_client_message_id(client_message_id)
    visibility = clean_visibility(visibility)
    conversation_id = parse_id(conversation_id)
    public = visibility == Visibility.PUBLIC
    fields = {"sender": Sender.AGENT, "kind": Kind.TEXT if public else Kind.NOTE, "visibility": visibility,
              "client_message_id": client_message_id, "author_id": principal.id,
              "names": {principal.id: principal.display_name}}
    if attachment_id is not None or location is not None:
        retried = (Message.objects.select_related("author", "subject", "attachment")
                   .filter(conversation_id=conversation_id, author_id=principal.id, sender=Sender.AGENT,
                           client_message_id=client_message_id).first())
        if retried is not None:
            return retried, False
        fields.update(_staff_extras(principal, conversation_id, public, attachment_id, location))
    fields["body"] = clean_body(body, required=fields["kind"] in (Kind.TEXT, Kind.NOTE)
                                and not fields.get("attachment"))
    _rate_limit(principal)
    actor = Actor.of(principal)
    try:
        # The common case, in one statement: the agent handling an active conversation.
        message = streams.append(_HANDLED_BY, [conversation_id, principal.id], actor=actor, **fields)
        if message is None:  # a supervisor who joined, a note after the end, or a refusal
            with transaction.atomic():
                _check_staff_may_write(principal, conversation_id, public)
                conversation = streams.allocate_by_id(conversation_id, public=public)
                message = streams.insert(conversation, actor=actor, **fields)
    except IntegrityError as error:  # a retry: the client id is already stored (querysets cost: built only now)
        sent_by_me = Message.objects.filter(conversation_id=conversation_id, author_id=principal.id,
                                            sender=Sender.AGENT)
        return _retried(sent_by_me, client_message_id, error, fields.get("attachment")), False
    return message, True


def _staff_extras(principal: Principal, conversation_id: int, public: bool, attachment_id, location) -> dict:
    """A staff item's file or place, checked: the file theirs and unsent, the place a real
    one, and either carried by the conversation's channel when it goes to the customer."""
    if attachment_id is not None and location is not None:
        raise InvalidInput(_("Send a file or a location, not both at once."), code="message_invalid")
    # Who may write here first: nothing of another's conversation is told by the checks below.
    channel = access_conversation(principal, conversation_id, Action.SEND if public else Action.NOTE).channel
    if location is not None:
        if not public:
            raise InvalidInput(_("A location is sent to the customer, not as a note."), code="message_invalid")
        check_carries(channel, "location")
        return {"kind": Kind.LOCATION, **clean_location(location)}
    attachment = attachment_to_send(principal, attachment_id, conversation_id)
    if public:
        check_carries(channel, attachment.category)
    return {"kind": Kind.FILE if public else Kind.NOTE, "attachment": attachment}


def clean_location(location) -> dict:
    """{latitude, longitude} in degrees on the globe, to six decimals (about 10 cm)."""
    try:
        latitude, longitude = (Decimal(str(location[key])).quantize(Decimal("0.000001"))
                               for key in ("latitude", "longitude"))
    except (TypeError, KeyError, InvalidOperation, ValueError):
        latitude = longitude = None
    finite = latitude is not None and latitude.is_finite() and longitude.is_finite()
    if not finite or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidInput(_("A location is a latitude (-90 to 90) and a longitude (-180 to 180)."),
                           code="location_invalid")
    return {"latitude": latitude, "longitude": longitude}


def _check_staff_may_write(principal: Principal, conversation_id: int, public: bool) -> None:
    conversation = access_conversation(principal, conversation_id, Action.SEND if public else Action.NOTE,
                                       for_update=True)
    if public and conversation.state != ConversationState.ACTIVE:
        raise Conflict(_("Only conversations in progress can be written in; ended ones are closed."),
                       code="conversation_not_active")


def receipt_update(*, principal: Principal, conversation_id, delivered_seq=None, read_seq=None) -> Conversation:
    """Move the participant's delivered/read marks forward (never back), in their own
    stream's numbers, update their side's summary in public numbers, and tell both sides."""
    marks = {}
    for name, value in (("delivered_seq", delivered_seq), ("read_seq", read_seq)):
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidInput(_("%(name)s must be a non-negative whole number.") % {"name": name}, code="seq_invalid")
        marks[name] = value
    if not marks:
        raise InvalidInput(_("Give delivered_seq or read_seq."), code="seq_invalid")
    if "read_seq" in marks:  # what was read was delivered too
        marks["delivered_seq"] = max(marks.get("delivered_seq", 0), marks["read_seq"])
    with transaction.atomic():
        conversation = access_conversation(principal, conversation_id, Action.RECEIPT, for_update=True)
        participant = participant_of(conversation.id, principal)
        if participant is None:  # the last watcher of an old row; nothing to mark
            return conversation
        last = conversation.last_seq if principal.is_customer else conversation.last_staff_seq
        changed = [name for name, value in marks.items() if min(value, last) > getattr(participant, name)]
        if not changed:
            return conversation
        for name in changed:
            setattr(participant, name, min(marks[name], last))
        participant.save(update_fields=changed)
        side = "customer" if principal.is_customer else "agent"
        summary = _side_summary(conversation, participant, principal)
        updates = {f"{side}_{name}": value for name, value in summary.items()
                   if value > getattr(conversation, f"{side}_{name}")}
        if updates:
            Conversation.objects.filter(pk=conversation.pk).update(**updates)
            for name, value in updates.items():
                setattr(conversation, name, value)
            publish(ReceiptUpdated(actor=Actor.of(principal), side=side,
                                   delivered_seq=getattr(conversation, f"{side}_delivered_seq"),
                                   read_seq=getattr(conversation, f"{side}_read_seq"), **streams.routing(conversation)))
    return conversation


def _side_summary(conversation: Conversation, participant: Participant, principal: Principal) -> dict:
    """The participant's marks in public numbers: the customer's already are; a member of
    staff's staff number maps to the last public item at or before it."""
    if principal.is_customer:
        return {"delivered_seq": participant.delivered_seq, "read_seq": participant.read_seq}
    public = Message.objects.filter(conversation_id=conversation.id, seq__isnull=False)
    return {name: public.filter(staff_seq__lte=getattr(participant, name)).order_by("-staff_seq")
            .values_list("seq", flat=True).first() or 0
            for name in ("delivered_seq", "read_seq")}


def typing_signal(*, principal: Principal, conversation_id, is_typing) -> None:
    """Ephemeral: nothing is stored; TypingChanged tells the others following."""
    if not isinstance(is_typing, bool):
        raise InvalidInput(_("is_typing must be true or false."), code="typing_invalid")
    conversation = access_conversation(principal, conversation_id, Action.TYPING, related=False)
    if conversation.state == ConversationState.ENDED:
        return
    publish(TypingChanged(actor=Actor.of(principal), is_typing=is_typing, **streams.routing(conversation)))


def staff_viewing(*, principal: Principal, conversation_id, is_viewing, again=False) -> int:
    """Ephemeral: a member of staff who may see the conversation opened it in their console
    (or left it); the others who have it open hear who is there (docs/protocol.md §7).
    Nothing is stored. Returns the conversation's id."""
    if not principal.is_staff:
        raise Forbidden(_("Customers cannot do this."), code="staff_only")
    if not isinstance(is_viewing, bool) or not isinstance(again, bool):
        raise InvalidInput(_("is_viewing and again must be true or false."), code="viewing_invalid")
    conversation = access_conversation(principal, conversation_id, related=False)
    publish(StaffViewing(actor=Actor.of(principal), is_viewing=is_viewing, again=again,
                         **streams.routing(conversation)))
    return conversation.id
