"""What each client frame does: validate, call the one action for it, answer."""
from django.utils.translation import gettext as _

from branchline.accounts.principals import Principal
from branchline.conversations import actions, selectors
from branchline.conversations.payloads import conversation_for_customer, message_for
from branchline.core.errors import InvalidInput, NotFound

from .connection import Connection, db

MAX_RESUME = 200


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
    """Store the message; return its payload (built in this thread) and whether it is new."""
    if principal.is_customer:
        message, created = actions.customer_message_send(
            principal=principal, body=frame.get("body"), client_message_id=frame.get("client_message_id"),
            topic_id=frame.get("topic_id"),
        )
        return message_for(principal, message), created
    message, created = actions.staff_message_send(
        principal=principal, conversation_id=frame.get("conversation_id"), body=frame.get("body"),
        client_message_id=frame.get("client_message_id"), visibility=frame.get("visibility", "public"),
    )
    return message_for(principal, message, names={principal.id: principal.display_name}), created


# Staff frames that change who handles a conversation: the frame's fields are the action's
# keyword arguments (besides conversation_id). Answered with `action.ack` after commit.
_STAFF_ACTIONS = {
    "conversation.accept": (actions.conversation_accept, ()),
    "conversation.end": (actions.conversation_end, ()),
    "conversation.release": (actions.conversation_release, ()),
    "conversation.transfer": (actions.conversation_transfer, ("to_user_id", "note")),
    "conversation.join": (actions.conversation_join, ()),
    "conversation.leave": (actions.conversation_leave, ()),
}


def _staff_action(principal: Principal, kind: str, frame: dict) -> int:
    if not principal.is_staff:
        raise InvalidInput(_("Unknown frame type %(type)r.") % {"type": kind}, code="unknown_type")
    action, fields = _STAFF_ACTIONS[kind]
    extra = {name: frame[name] for name in fields if name in frame}
    if "to_user_id" in fields and "to_user_id" not in extra:
        raise InvalidInput(_("to_user_id is required."), code="invalid")
    return action(principal=principal, conversation_id=frame.get("conversation_id"), **extra).id


async def handle(connection: Connection, frame: dict, ref) -> None:
    principal = connection.principal
    kind = frame["type"]
    if kind == "message.send":
        payload, created = await db(_send_message, principal, frame)
        # Sent after commit: an acknowledged message is stored.
        connection.send_event("message.ack", ref=ref, client_message_id=payload["client_message_id"],
                              duplicate=not created, message=payload)
    elif kind == "typing":
        await db(actions.typing_signal, principal=principal, conversation_id=frame.get("conversation_id"),
                 is_typing=frame.get("is_typing"))
    elif kind == "receipt":
        await db(actions.receipt_update, principal=principal, conversation_id=frame.get("conversation_id"),
                 delivered_seq=frame.get("delivered_seq"), read_seq=frame.get("read_seq"))
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
    elif kind == "ping":
        connection.send_event("pong", ref=ref)
    else:
        raise InvalidInput(_("Unknown frame type %(type)r.") % {"type": kind[:40]}, code="unknown_type")
