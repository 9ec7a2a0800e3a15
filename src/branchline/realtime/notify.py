"""Delivery to sockets: the inline subscribers that turn domain events into socket
envelopes, each addressed to the audiences that may see it, in the shape they may see.

Runs after commit in the action's thread (branchline/subscriptions.py). A numbered
envelope goes to customer audiences or to staff audiences, never both (docs/adr/0005)."""
import functools
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation

from branchline.accounts.events import SessionEnded
from branchline.conversations.events import (
    ConversationChanged,
    ConversationEvent,
    MessageAdded,
    ReceiptUpdated,
    StaffViewing,
    TypingChanged,
)
from branchline.conversations.models import ConversationState, Visibility
from branchline.conversations.payloads import (
    conversation_for_customer,
    conversation_for_staff,
    message_for_customer,
    message_for_staff,
)
from branchline.conversations.selectors import conversation_snapshot_for_staff

from . import audiences
from .bus import get_bus
from .registry import SESSION_ENDED


@dataclass(frozen=True)
class Envelope:
    """One socket event for some audiences. With `seq` it is part of a conversation's
    numbered stream (the audiences' stream): the gateway delivers those exactly once and in
    order to each socket. Without, it is a state snapshot or an ephemeral signal."""

    type: str
    audiences: tuple[str, ...]
    data: dict = field(default_factory=dict)
    conversation_id: int | None = None
    seq: int | None = None

    def __post_init__(self):
        if self.seq is not None:
            kinds = {audiences.is_customer_audience(key) for key in self.audiences}
            if len(kinds) > 1:
                raise ValueError(f"a numbered event goes to customer or staff audiences, not both: {self.audiences}")

    def encode(self) -> bytes:
        return json.dumps(
            {"t": self.type, "a": list(self.audiences), "c": self.conversation_id, "s": self.seq, "d": self.data},
            separators=(",", ":"),
            default=str,
        ).encode()


def send(envelope: Envelope) -> None:
    if envelope.audiences:
        get_bus().send(envelope.encode())


def in_server_language(subscriber):
    """Socket payloads are built once for many readers, so in the server's language, whoever
    acted (an HTTP request runs in its reader's): clients word system lines in their reader's
    language from `system_code` and `params` (docs/protocol.md §18)."""
    @functools.wraps(subscriber)
    def wrapped(event):
        with translation.override(settings.LANGUAGE_CODE):
            return subscriber(event)

    return wrapped


def customer_audiences(event: ConversationEvent) -> tuple[str, ...]:
    return (audiences.customer(event.customer_id),)


def staff_audiences(event: ConversationEvent, *, also: tuple[int, ...] = (), but: int | None = None):
    """Staff following a conversation live: its watchers, and its queue while it waits."""
    keys = [audiences.staff(user_id) for user_id in dict.fromkeys((*event.watchers, *also)) if user_id != but]
    if event.state == ConversationState.WAITING:
        keys.append(audiences.queue(event.queue_id, event.channel_id))
    return tuple(keys)


@in_server_language
def message_added(event: MessageAdded) -> None:
    """One envelope per stream: the customer's shape on the public stream (public items
    only), the staff shape on the staff stream."""
    message = event.message
    if message.visibility == Visibility.PUBLIC:
        send(Envelope("message.created", customer_audiences(event),
                      {"message": message_for_customer(message, names=event.names)},
                      conversation_id=event.conversation_id, seq=message.seq))
    send(Envelope("message.created", staff_audiences(event),
                  {"message": message_for_staff(message, names=event.names)},
                  conversation_id=event.conversation_id, seq=message.staff_seq))


@in_server_language
def conversation_changed(event: ConversationChanged) -> None:
    """Each side gets the new state in the shape it may see. The queue sees full snapshots
    only while a conversation waits; after that, only that it left."""
    conversation, unread = conversation_snapshot_for_staff(event.conversation_id)
    cid = conversation.id
    if not event.staff_only:
        send(Envelope("conversation.updated", customer_audiences(event),
                      {"conversation": conversation_for_customer(conversation)}, conversation_id=cid))
    staff_view = {"conversation": conversation_for_staff(conversation, unread_count=unread)}
    # One envelope for every staff audience, so a socket in several (a supervisor following
    # it, in its queue and its line) gets it once.
    staff = [audiences.staff(u) for u in dict.fromkeys((*conversation.watchers, *event.also_tell))]
    staff.append(audiences.line(conversation.line_of_business_id))
    queue = audiences.queue(conversation.queue_id, conversation.channel_id)
    left = []  # the queue audiences it is no longer waiting for
    if event.from_queue_id is not None and event.from_queue_id != conversation.queue_id:
        left.append(audiences.queue(event.from_queue_id, conversation.channel_id))
    if conversation.state == ConversationState.WAITING:
        staff.append(queue)
    elif not event.staff_only:  # a staff-only change moves nothing in or out of the queue
        left.append(queue)
    if left:
        send(Envelope("queue.left", tuple(left), {"conversation_id": cid, "state": conversation.state},
                      conversation_id=cid))
    send(Envelope("conversation.updated", tuple(staff), staff_view, conversation_id=cid))


def receipt_updated(event: ReceiptUpdated) -> None:
    data = {"conversation_id": event.conversation_id, "side": event.side, "delivered_seq": event.delivered_seq,
            "read_seq": event.read_seq}
    send(Envelope("receipt.updated", customer_audiences(event), data, conversation_id=event.conversation_id))
    send(Envelope("receipt.updated", staff_audiences(event), data, conversation_id=event.conversation_id))


def typing_changed(event: TypingChanged) -> None:
    """To everyone following but the typist: staff typing reaches the customer and the
    other staff (with who types); customer typing reaches the staff."""
    data = {"conversation_id": event.conversation_id,
            "sender": "customer" if event.actor.kind == "customer" else "agent", "is_typing": event.is_typing}
    if event.actor.kind == "staff":
        send(Envelope("typing", customer_audiences(event), data, conversation_id=event.conversation_id))
        data = {**data, "author": {"id": event.actor.id, "name": event.actor.name}}
    typist = event.actor.id if event.actor.kind == "staff" else None
    keys = (*staff_audiences(event, but=typist), audiences.viewers(event.conversation_id))
    send(Envelope("typing", keys, data, conversation_id=event.conversation_id))


def staff_viewing(event: StaffViewing) -> None:
    """Who has the conversation open, to the others who have it open."""
    send(Envelope("presence", (audiences.viewers(event.conversation_id),),
                  {"conversation_id": event.conversation_id, "user": {"id": event.actor.id, "name": event.actor.name},
                   "viewing": event.is_viewing, "again": event.again}, conversation_id=event.conversation_id))


def session_ended(event: SessionEnded) -> None:
    """The sockets of that sign-in close, on every server process (realtime/registry.py
    matches the digest); the person's other sign-ins stay open."""
    audience = (audiences.customer if event.principal_kind == "customer" else audiences.staff)(event.principal_id)
    send(Envelope(SESSION_ENDED, (audience,), {"session": event.session}))
