"""The wire shapes of conversations and messages, shared by the JSON API, socket events
and resync, so a message looks the same however a client receives it."""
from branchline.core.wire import timestamp

from .models import Conversation, Message, Sender


def message_payload(message: Message, *, agent_name: str | None = None) -> dict:
    """`agent_name` spares a query when the caller already knows who wrote it."""
    if agent_name is None and message.agent_id and message.sender != Sender.CUSTOMER:
        agent_name = message.agent.display_name
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "sender": message.sender,
        "agent_name": agent_name if message.sender != Sender.CUSTOMER else None,
        "text": message.text(agent_name),
        "system_code": message.system_code or None,
        "client_message_id": message.client_message_id,
        "created_at": timestamp(message.created_at),
    }


def conversation_for_customer(conversation: Conversation) -> dict:
    """What a customer may know about their conversation (no staff-only fields)."""
    agent = conversation.assigned_agent
    return {
        "id": conversation.id,
        "state": conversation.state,
        "topic": {"id": conversation.topic_id, "name": conversation.topic.name},
        "agent_name": agent.display_name if agent else None,
        "last_seq": conversation.last_seq,
        "read_seq": conversation.customer_read_seq,
        "agent_delivered_seq": conversation.agent_delivered_seq,
        "agent_read_seq": conversation.agent_read_seq,
        "created_at": timestamp(conversation.created_at),
        "ended_at": timestamp(conversation.ended_at),
    }


def conversation_for_staff(conversation: Conversation, *, unread_count: int) -> dict:
    agent = conversation.assigned_agent
    customer = conversation.customer
    return {
        "id": conversation.id,
        "state": conversation.state,
        "case_id": conversation.case_id,
        "topic": {"id": conversation.topic_id, "name": conversation.topic.name},
        "case_type": {"id": conversation.case.case_type_id, "name": conversation.case.case_type.name},
        "channel": conversation.channel.kind,
        "customer": {
            "id": customer.id,
            "name": customer.display_name,
            "authenticated": customer.is_authenticated,
        },
        "assigned_agent": {"id": agent.id, "name": agent.display_name} if agent else None,
        "last_seq": conversation.last_seq,
        "unread_count": unread_count,
        "read_seq": conversation.agent_read_seq,
        "customer_delivered_seq": conversation.customer_delivered_seq,
        "customer_read_seq": conversation.customer_read_seq,
        "created_at": timestamp(conversation.created_at),
        "accepted_at": timestamp(conversation.accepted_at),
        "ended_at": timestamp(conversation.ended_at),
        "last_message_at": timestamp(conversation.last_message_at),
    }
