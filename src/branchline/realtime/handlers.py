"""What each client frame does: validate, call the one action for it, answer."""
from django.utils.translation import gettext as _

from branchline.accounts.principals import Principal
from branchline.conversations import actions, selectors
from branchline.conversations.payloads import conversation_for_customer, message_for
from branchline.conversations.schemas import (
    BarFrame,
    CustomerSendIn,
    NewContactFrame,
    OnConversation,
    QueueFrame,
    ReceiptFrame,
    RejectFrame,
    RelateFrame,
    StaffSendFrame,
    TagFrame,
    TransferFrame,
    TypingFrame,
    ViewingFrame,
)
from branchline.core.errors import DomainError, InvalidInput, NotFound
from branchline.core.schemas import parse
from branchline.routing.selectors import queue_pairs

from . import audiences
from .connection import Connection, db
from .registry import registry

MAX_RESUME = 200
# The conversations a staff socket may have open at once (its viewers audiences).
MAX_OPEN = 50


def parse_resume(raw) -> dict[int, int]:
    """{"<conversation id>": <last seq seen>, ...} -> {int: int}."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_RESUME:
        raise InvalidInput(_("resume maps up to %(max)s conversation ids to the last seq seen.") % {"max": MAX_RESUME},
                           code="resume_invalid")
    cursors = {}
    for key, value in raw.items():
        try:
            conversation_id = selectors.parse_id(key)
        except NotFound:
            raise InvalidInput(_("resume keys are conversation ids."), code="resume_invalid") from None
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= selectors.MAX_ID:
            raise InvalidInput(_("resume values are the last seq seen (0 to 2^63-1)."), code="resume_invalid")
        cursors[conversation_id] = value
    return cursors


def audiences_of(principals: list[Principal]) -> list[tuple[str, ...]]:
    """Each principal's audiences, their queues included (two or three queries in all)."""
    pairs = queue_pairs(principals)
    return [audiences.of_principal(p, pairs.get(p.id, frozenset()) if p.is_staff else frozenset())
            for p in principals]


def still_visible(principals: list[Principal], opened: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Of each socket's viewers keys, those whose conversation its principal may still see
    (a query per socket that has any open)."""
    kept = []
    for principal, keys in zip(principals, opened):
        ids = {int(key.rsplit(":", 1)[1]): key for key in keys}
        visible = set(selectors.conversations_visible_to(principal).filter(pk__in=list(ids))
                      .values_list("pk", flat=True)) if ids else set()
        kept.append(tuple(key for cid, key in ids.items() if cid in visible))
    return kept


def ready_payload(principal: Principal, resume: dict[int, int]) -> dict:
    visible = set(
        selectors.conversations_visible_to(principal).filter(pk__in=list(resume)).values_list("pk", flat=True)
    )
    payload = {
        "principal": {"kind": principal.kind, "id": principal.id, "name": principal.display_name},
        "rejected_resume": sorted(set(resume) - visible),
        "_cursors": {cid: seq for cid, seq in resume.items() if cid in visible},
    }
    if principal.is_customer:
        actions.customers_seen([principal.id])
        conversation = selectors.customer_current_conversation(principal.id)
        payload["principal"]["authenticated"] = principal.authenticated_customer
        payload["conversation"] = conversation_for_customer(conversation) if conversation else None
        payload["unread_count"] = selectors.customer_unread_count(principal.id)
    else:
        actions.staff_seen([principal.id])
        payload["principal"]["role"] = principal.role
    return payload


def customer_left(principal: Principal) -> None:
    actions.customers_seen([principal.id])


def _send_message(principal: Principal, frame: dict) -> tuple[dict, bool]:
    """Store the message; return its payload (built in this thread) and whether it is new.
    The frame is parsed by the schema of the HTTP body for the same send."""
    if principal.is_customer:
        send = parse(CustomerSendIn, frame)
        message, created = actions.customer_message_send(
            principal=principal, body=send.body, client_message_id=send.client_message_id, topic_id=send.topic_id,
            attachment_id=send.attachment_id)
        return message_for(principal, message), created
    send = parse(StaffSendFrame, frame)
    message, created = actions.staff_message_send(
        principal=principal, conversation_id=send.conversation_id, body=send.body,
        client_message_id=send.client_message_id, visibility=send.visibility, attachment_id=send.attachment_id,
        location=send.location and send.location.dict(),
    )
    return message_for(principal, message, names={principal.id: principal.display_name}), created


# Staff frames that act on one conversation, answered with `action.ack` after commit: each
# parsed by its schema (the HTTP body's, with the conversation's id), whose fields are the
# action's own arguments. The state changes take only the conversation.
_STAFF_ACTIONS = {f"conversation.{name}": (OnConversation, action)
                  for name, (action, _summary) in actions.STATE_CHANGES.items()}
_STAFF_ACTIONS.update({
    "conversation.transfer": (TransferFrame, actions.conversation_transfer),
    "conversation.queue": (QueueFrame, actions.conversation_queue_set),
    "conversation.reject": (RejectFrame, actions.conversation_reject),
    "conversation.bar": (BarFrame, actions.customer_bar),
    "conversation.tag": (TagFrame, actions.conversation_tag_set),
    "customer.relate": (RelateFrame, actions.customer_contact_relate),
    "contact.create": (NewContactFrame, actions.contact_create),
})


def _staff_action(principal: Principal, kind: str, frame: dict) -> int:
    """Run the frame's action; the id of the conversation it acted on."""
    if not principal.is_staff:
        raise InvalidInput(_("Unknown frame type %(type)r.") % {"type": kind}, code="unknown_type")
    schema, action = _STAFF_ACTIONS[kind]
    fields = parse(schema, frame).dict()
    action(principal=principal, **fields)
    return fields["conversation_id"]


def _typing(principal: Principal, frame: dict) -> None:
    typing = parse(TypingFrame, frame)
    actions.typing_signal(principal=principal, conversation_id=typing.conversation_id, is_typing=typing.is_typing)


def _viewing(principal: Principal, viewing: ViewingFrame) -> None:
    try:
        actions.staff_viewing(principal=principal, conversation_id=viewing.conversation_id,
                              is_viewing=viewing.is_viewing, again=viewing.again)
    except DomainError:
        if viewing.is_viewing:
            raise
        # Leaving something no longer in sight: said to nobody, and not an error.


def _receipt(principal: Principal, frame: dict) -> None:
    receipt = parse(ReceiptFrame, frame)
    actions.receipt_update(principal=principal, conversation_id=receipt.conversation_id,
                           delivered_seq=receipt.delivered_seq, read_seq=receipt.read_seq)


async def handle(connection: Connection, frame: dict, ref) -> None:
    principal = connection.principal
    kind = frame["type"]
    if kind == "message.send":
        payload, created = await db(_send_message, principal, frame)
        # Sent after commit: an acknowledged message is stored.
        connection.send_event("message.ack", ref=ref, client_message_id=payload["client_message_id"],
                              duplicate=not created, message=payload)
    elif kind == "typing":
        await db(_typing, principal, frame)
    elif kind == "receipt":
        await db(_receipt, principal, frame)
        if ref is not None:
            connection.send_event("receipt.ack", ref=ref)
    elif kind == "resume":
        conversation_id = frame.get("conversation_id")
        if not isinstance(conversation_id, (int, str)) or isinstance(conversation_id, bool):
            raise InvalidInput(_("resume names one conversation id."), code="resume_invalid")
        [(conversation_id, after_seq)] = parse_resume({conversation_id: frame.get("after_seq")}).items()
        if conversation_id not in connection.cursors:  # one this socket follows was visible to it
            await db(selectors.access_conversation, principal, conversation_id)
        connection.resume(conversation_id, after_seq)
    elif kind in _STAFF_ACTIONS:
        conversation_id = await db(_staff_action, principal, kind, frame)
        connection.send_event("action.ack", ref=ref, action=kind, conversation_id=conversation_id)
    elif kind == "viewing":
        viewing = parse(ViewingFrame, frame)
        key = audiences.viewers(viewing.conversation_id)
        if not viewing.is_viewing:  # leaving needs no permission: it may have gone out of sight meanwhile
            registry.leave(connection, key)
        elif registry.open_count(connection) >= MAX_OPEN and key not in connection.audiences:
            raise InvalidInput(_("Too many conversations open on this socket."), code="too_many_open")
        await db(_viewing, principal, viewing)  # the permission check first: nothing reaches it before
        if viewing.is_viewing:
            registry.join(connection, key)
    elif kind == "ping":
        connection.send_event("pong", ref=ref)
    else:
        raise InvalidInput(_("Unknown frame type %(type)r.") % {"type": kind[:40]}, code="unknown_type")
