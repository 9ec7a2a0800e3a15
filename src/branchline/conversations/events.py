"""What happens to conversations: the events their actions publish (the public contract
of this app; subscribers are listed in branchline/subscriptions.py).

Events carry the conversation's routing facts as they were at the change (customer,
watchers, state, line of business, queue and channel), so a subscriber that tells sockets needs no query to
know who to tell."""
from dataclasses import dataclass
from typing import Any, ClassVar

from branchline.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ConversationEvent(DomainEvent):
    subject_type = "conversation"

    conversation_id: int
    customer_id: int
    line_of_business_id: int
    queue_id: int  # where it waits (routing.Queue): with channel_id, its queue audience
    channel_id: int
    state: str
    watchers: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MessageAdded(ConversationEvent):
    """An item joined the conversation's streams (a message is its own record: not audited)."""

    name = "message.added"
    transient = frozenset({"message", "names"})

    message: Any  # the stored Message
    names: dict | None = None  # {user id: display name} the payload may use


@dataclass(frozen=True, kw_only=True)
class ConversationChanged(ConversationEvent):
    """Who handles a conversation, or its state, changed. `also_tell`: staff who stopped
    following it with this change and must hear it once. `staff_only`: nothing the customer
    sees changed, so the customer hears nothing of it (not even that something happened)."""

    staff_only: ClassVar[bool] = False
    also_tell: tuple[int, ...] = ()
    from_queue_id: int | None = None  # it moved from this queue, whose audience must hear it left


@dataclass(frozen=True, kw_only=True)
class ConversationQueued(ConversationChanged):
    """Moved to another queue of its line (from `from_queue_id`), to wait there."""

    name = "conversation.queued"
    with_note: bool


@dataclass(frozen=True, kw_only=True)
class ConversationStarted(ConversationChanged):
    name = "conversation.started"
    topic_id: int
    case_id: int


@dataclass(frozen=True, kw_only=True)
class ConversationAccepted(ConversationChanged):
    name = "conversation.accepted"
    agent_id: int


@dataclass(frozen=True, kw_only=True)
class ConversationEnded(ConversationChanged):
    name = "conversation.ended"
    reason: str
    rejection: str = ""  # with reason "rejected": duplicate, spam, abuse or other


@dataclass(frozen=True, kw_only=True)
class ConversationReleased(ConversationChanged):
    """Back to the queue: by its agent or a supervisor, or by the away-agent rule (`away`)."""

    name = "conversation.released"
    agent_id: int
    away: bool = False


@dataclass(frozen=True, kw_only=True)
class ConversationTransferred(ConversationChanged):
    name = "conversation.transferred"
    from_agent_id: int | None
    to_agent_id: int
    with_note: bool


@dataclass(frozen=True, kw_only=True)
class SupervisorJoined(ConversationChanged):
    name = "conversation.supervisor_joined"
    supervisor_id: int


@dataclass(frozen=True, kw_only=True)
class SupervisorLeft(ConversationChanged):
    name = "conversation.supervisor_left"
    supervisor_id: int


@dataclass(frozen=True, kw_only=True)
class CustomerIdentified(ConversationChanged):
    """A guest signed in with the bank during the conversation: it is the signed-in
    customer's from now on (`customer_id`); `guest_id` is who they were."""

    name = "conversation.customer_identified"
    guest_id: int


@dataclass(frozen=True, kw_only=True)
class CaseStatusChanged(ConversationChanged):
    """A case's status changed; routed through the case's latest conversation."""

    name = "case.status_changed"
    staff_only = True
    case_id: int
    status_id: int
    previous_status_id: int
    resolved: bool


@dataclass(frozen=True, kw_only=True)
class CaseTopicChanged(ConversationChanged):
    """During a conversation its topic, and its case's topic and case type, changed."""

    name = "case.topic_changed"
    case_id: int
    topic_id: int
    case_type_id: int
    previous_topic_id: int


@dataclass(frozen=True, kw_only=True)
class ConversationContinued(ConversationChanged):
    """Outbound: an agent started a conversation with an authenticated customer, from an
    ended one (`from_conversation_id`), in `case_id`."""

    name = "conversation.continued"
    from_conversation_id: int
    case_id: int
    topic_id: int
    agent_id: int


@dataclass(frozen=True, kw_only=True)
class ConversationTagged(ConversationChanged):
    """A tag was put on the conversation (`added`) or taken off. Staff only."""

    name = "conversation.tagged"
    staff_only = True
    tag_id: int
    tag: str
    added: bool


@dataclass(frozen=True, kw_only=True)
class ReceiptUpdated(ConversationEvent):
    """A side's delivered/read summary moved forward (in public numbers)."""

    name = "receipt.updated"
    side: str  # customer | agent
    delivered_seq: int
    read_seq: int


@dataclass(frozen=True, kw_only=True)
class StaffViewing(ConversationEvent):
    """Ephemeral: a member of staff opened (or left) the conversation in their console.
    `again`: a repeat (the periodic one, or an answer to a newcomer), which is not answered."""

    name = "staff.viewing"
    is_viewing: bool
    again: bool = False


@dataclass(frozen=True, kw_only=True)
class TypingChanged(ConversationEvent):
    """Ephemeral: someone started or stopped typing."""

    name = "typing.changed"
    is_typing: bool


@dataclass(frozen=True, kw_only=True)
class CustomerDataRead(DomainEvent):
    """A member of staff read a customer's data: a conversation (`conversation`), its
    messages (`messages`) or the customer's whole history (`history`). Recorded at most once
    per reader, customer and kind per READ_AUDIT_SECONDS."""

    name = "customer.data_read"
    subject_type = "customer"

    customer_id: int
    conversation_id: int
    what: str


@dataclass(frozen=True, kw_only=True)
class CustomerBarred(DomainEvent):
    """Staff barred a customer (from `conversation_id`): their messages are dropped from now
    on and their open conversations ended (`closed`). With `barred` False: unbarred."""

    name = "customer.barred"
    subject_type = "customer"

    customer_id: int
    conversation_id: int | None
    barred: bool
    reason: str = ""
    closed: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class FileRefused(DomainEvent):
    """An uploaded file was refused and not kept: `reason` "infected" (the scanner found
    `found`) or "type" (its bytes are `found`, which may not be sent). For the security
    officers: who tried to send what."""

    name = "file.refused"
    subject_type = "conversation"

    conversation_id: int | None  # None: a customer's file before their conversation exists
    reason: str
    found: str
    file_name: str
    size: int
    sha256: str


@dataclass(frozen=True, kw_only=True)
class FileOpened(DomainEvent):
    """A member of staff opened (downloaded) a file of a customer's conversation: each time,
    as a file is the customer's document (a customer opening their own is not recorded)."""

    name = "file.opened"
    subject_type = "customer"

    customer_id: int
    conversation_id: int
    attachment_id: int
    file_name: str


@dataclass(frozen=True, kw_only=True)
class CustomerRecognized(ConversationChanged):
    """Staff related the conversation's customer (their profile) to a contact (`created`: one
    they recorded for it just now); the customer is Recognized from then on. Staff only."""

    name = "customer.recognized"
    staff_only = True
    contact_id: int
    created: bool
