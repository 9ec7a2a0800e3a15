from datetime import datetime

from ninja import Field, Schema

from branchline.cases.schemas import CaseStatusRef
from branchline.contacts.schemas import StaffCustomerRef
from branchline.core.ids import MAX_ID


class AttachmentOut(Schema):
    """A file an item carries. Fetch it with GET /api/customer/files/{id} (customers, with their
    token) or /api/staff/files/{id} (staff); never from a public address."""

    id: int
    name: str = Field(description="Its uploader's name for it, ending in its sniffed type's extension")
    content_type: str = Field(description="Sniffed from its bytes: application/pdf, image/png, audio/webm...")
    category: str = Field(description="document | image | audio | video")
    size: int = Field(description="In bytes")


class LocationOut(Schema):
    latitude: float
    longitude: float


class MessageOut(Schema):
    """An item of the public stream, as the customer sees it."""

    id: int
    conversation_id: int
    seq: int
    sender: str = Field(description="customer | agent (any member of staff) | system")
    agent_name: str | None
    text: str
    system_code: str | None
    params: dict[str, str] | None = Field(description="A system line's names and text (agent, receiver, customer, "
                                                       "body), to word it in the reader's language; else null")
    client_message_id: str | None = Field(description="The customer's own id for their messages; else null")
    attachment: AttachmentOut | None = Field(description="A file item's file (the text is its caption)")
    location: LocationOut | None = Field(description="A location item's place (the text is its label)")
    created_at: datetime


class AuthorRef(Schema):
    id: int
    name: str


class StaffMessageOut(Schema):
    """Any item of the staff stream, as staff see it."""

    id: int
    conversation_id: int
    seq: int | None = Field(description="Number in the public stream; null for staff-only items")
    staff_seq: int = Field(description="Number in the staff stream (every item): staff cursors use it")
    sender: str = Field(description="customer | agent | system")
    kind: str = Field(description="text | note | system | file | location (a note may carry a file too)")
    visibility: str = Field(description="public | staff")
    author: AuthorRef | None = Field(description="The member of staff who wrote it, or whom a system line is about")
    agent_name: str | None
    text: str
    note: str | None = Field(description="A system line's own words: the note a transfer carries for its receiver")
    system_code: str | None
    params: dict[str, str] | None = Field(description="A system line's names and text, to word it in the "
                                                       "reader's language (as in MessageOut)")
    client_message_id: str | None
    attachment: AttachmentOut | None = Field(description="The file it carries (a file item, or a note's)")
    location: LocationOut | None = Field(description="A location item's place (the text is its label)")
    created_at: datetime


class SendIn(Schema):
    body: str = Field("", description="1-4000 characters after trimming; may be empty with a file (its caption) "
                                      "or a location (its label)")
    client_message_id: str = Field(description="Client-chosen id, 1-64 of [A-Za-z0-9_.:-]; a retry with it is a no-op")
    attachment_id: int | None = Field(None, description="Send this file, uploaded first by the sender "
                                                        "(POST .../files); once only")


class CustomerSendIn(SendIn):
    topic_id: int | None = Field(None, description="Required when no conversation is open")


class LocationIn(Schema):
    latitude: float = Field(description="-90 to 90")
    longitude: float = Field(description="-180 to 180")


class StaffSendIn(SendIn):
    visibility: str = Field("public", description="public: to the customer; staff: an internal note (a whisper)")
    location: LocationIn | None = Field(None, description="Send where you are to the customer (the body its label)")


class SendOut(Schema):
    message: MessageOut
    duplicate: bool


class StaffSendOut(Schema):
    message: StaffMessageOut
    duplicate: bool


class ReceiptIn(Schema):
    delivered_seq: int | None = None
    read_seq: int | None = None


class TopicRef(Schema):
    id: int
    name: str


class CustomerConversationOut(Schema):
    id: int
    state: str
    topic: TopicRef
    agent_name: str | None
    last_seq: int
    read_seq: int
    agent_delivered_seq: int
    agent_read_seq: int
    created_at: datetime
    ended_at: datetime | None


class AgentRef(Schema):
    id: int
    name: str


class StaffConversationOut(Schema):
    id: int
    state: str
    case_id: int
    topic: TopicRef
    case_type: TopicRef
    case_status: CaseStatusRef
    outbound: bool = Field(description="Started by an agent writing to the customer (Continue conversation)")
    channel: str
    channel_carries: list[str] = Field(description="What its channel carries besides text: document, image, audio, "
                                                   "video, location (docs/protocol.md §16)")
    channel_max_file_mb: int = Field(description="The largest file its channel takes, in MB")
    queue: TopicRef = Field(description="Where it waits (or waited) to be taken")
    tags: list[TopicRef] = Field(description="By name")
    end_reason: str | None = Field(description="agent, customer_left, case_resolved or rejected, once ended")
    rejection: str | None = Field(description="Why it was rejected: duplicate, spam, abuse or other")
    customer: StaffCustomerRef
    assigned_agent: AgentRef | None
    last_seq: int
    last_staff_seq: int
    watchers: list[int] = Field(description="Staff following it live: the assigned agent and joined supervisors")
    unread_count: int
    read_seq: int = Field(description="Your own read mark, in staff_seq numbers")
    customer_delivered_seq: int
    customer_read_seq: int
    created_at: datetime
    accepted_at: datetime | None
    ended_at: datetime | None
    last_message_at: datetime
    closes_at: datetime | None = Field(description="When auto-close ends it unless the customer writes first "
                                                   "(its channel's hours after their last message)")


class MessagePage(Schema):
    messages: list[MessageOut] = Field(description="Oldest first")
    has_more: bool = Field(description="Older messages exist: ask again with before_id")


class StaffMessagePage(Schema):
    messages: list[StaffMessageOut] = Field(description="Oldest first")
    has_more: bool = Field(description="Older items exist: ask again with before_seq / before_id")


class TransferIn(Schema):
    to_user_id: int
    note: str = Field("", description="For the receiver only (staff-only note); up to 4000 characters")


class QueueIn(Schema):
    queue_id: int
    note: str = Field("", description="Staff-only, with the line naming the queue; up to 4000 characters")


class RejectIn(Schema):
    rejection: str = Field(description="duplicate, spam, abuse or other (other needs a note)")
    note: str = Field("", description="Staff-only; up to 4000 characters")


class QueueOut(Schema):
    id: int
    name: str
    is_default: bool
    serving: bool = Field(description="You are enabled on it: you see what waits there (from your channels)")


class BarIn(Schema):
    reason: str = Field(description="Why (staff read it; up to 500 characters)")


class TagIn(Schema):
    tag_id: int = Field(ge=1, le=MAX_ID)


class NewTagIn(Schema):
    name: str = Field(description="Up to 50 characters")


class StaffRef(Schema):
    id: int
    name: str
    role: str


# --- Socket frames: the HTTP bodies above, plus the conversation the path names over HTTP ---

class OnConversation(Schema):
    conversation_id: int


class StaffSendFrame(StaffSendIn, OnConversation):
    pass


class ReceiptFrame(ReceiptIn, OnConversation):
    pass


class TransferFrame(TransferIn, OnConversation):
    pass


class QueueFrame(QueueIn, OnConversation):
    pass


class RejectFrame(RejectIn, OnConversation):
    pass


class BarFrame(BarIn, OnConversation):
    pass


class ViewingFrame(OnConversation):
    is_viewing: bool
    again: bool = Field(False, description="A repeat: others do not answer it")


class TagFrame(TagIn, OnConversation):
    on: bool = Field(True, description="Put it on (true) or take it off (false)")


class TypingFrame(OnConversation):
    is_typing: bool


class RelateIn(Schema):
    contact_id: int = Field(ge=1, le=MAX_ID)


class NewContactIn(Schema):
    first_name: str = Field(description="1-100 characters")
    last_name: str = Field(description="1-100 characters")
    email: str = Field("", description="An e-mail address; this or phone is required")
    phone: str = Field("", description="Digits with + ( ) - or spaces; this or email is required")
    company: str = ""
    address: str = ""


class RelateFrame(RelateIn, OnConversation):
    pass


class NewContactFrame(NewContactIn, OnConversation):
    pass
