from datetime import datetime

from ninja import Field, Schema


class MessageOut(Schema):
    id: int
    conversation_id: int
    seq: int
    sender: str = Field(description="customer | agent | system")
    agent_name: str | None
    text: str
    system_code: str | None
    client_message_id: str | None
    created_at: datetime


class SendIn(Schema):
    body: str = Field(description="1-4000 characters after trimming")
    client_message_id: str = Field(description="Client-chosen id, 1-64 of [A-Za-z0-9_.:-]; a retry with it is a no-op")


class CustomerSendIn(SendIn):
    topic_id: int | None = Field(None, description="Required when no conversation is open")


class SendOut(Schema):
    message: MessageOut
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


class CustomerRef(Schema):
    id: int
    name: str
    authenticated: bool


class AgentRef(Schema):
    id: int
    name: str


class StaffConversationOut(Schema):
    id: int
    state: str
    case_id: int
    topic: TopicRef
    case_type: TopicRef
    channel: str
    customer: CustomerRef
    assigned_agent: AgentRef | None
    last_seq: int
    unread_count: int
    read_seq: int
    customer_delivered_seq: int
    customer_read_seq: int
    created_at: datetime
    accepted_at: datetime | None
    ended_at: datetime | None
    last_message_at: datetime


class MessagePage(Schema):
    messages: list[MessageOut] = Field(description="Oldest first")
    has_more: bool = Field(description="Older messages exist: ask again with before_id / before_seq")
