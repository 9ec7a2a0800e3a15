"""The wire shapes of conversations and messages, shared by the JSON API, socket events
and resync, so a message looks the same however a client receives it."""
from datetime import timedelta

from branchline.core.wire import timestamp

from .models import Conversation, ConversationState, Kind, Message, Sender, Visibility


def _names(message: Message, names: dict | None) -> tuple[str | None, str | None]:
    """The author's and subject's names; `names` ({user id: name}) spares queries when
    the caller already knows them (a selector's MessageRow carries its own)."""
    names = names or getattr(message, "names", None) or {}

    def name(user_id, attr):
        if not user_id:
            return None
        return names.get(user_id) or getattr(message, attr).display_name

    return name(message.author_id, "author"), name(message.subject_id, "subject")


def _line_params(message, author, subject) -> dict | None:
    """A system line's names and text, for clients that word it in their reader's language."""
    return Message.line_params(message, author, subject) if message.kind == Kind.SYSTEM else None


def attachment_of(message) -> dict | None:
    """A file item's file: what a reader needs to show it and to fetch it (the download is
    GET /api/customer/files/{id} or /api/staff/files/{id}, each permission-checked)."""
    if not message.attachment_id:
        return None
    attachment = message.attachment
    return {"id": attachment.id, "name": attachment.name, "content_type": attachment.content_type,
            "category": attachment.category, "size": attachment.size}


def location_of(message) -> dict | None:
    if message.latitude is None:
        return None
    return {"latitude": float(message.latitude), "longitude": float(message.longitude)}


def message_for_customer(message, *, names: dict | None = None) -> dict:
    """A public item as the customer sees it: their stream's number only (MessageOut)."""
    assert message.visibility == Visibility.PUBLIC, "staff-only items never take a customer shape"
    author, subject = _names(message, names)
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "sender": message.sender,
        "agent_name": author if message.sender != Sender.CUSTOMER else None,
        "text": Message.text(message, author, subject),
        "system_code": message.system_code or None,
        "params": _line_params(message, author, subject),
        "client_message_id": message.client_message_id if message.sender == Sender.CUSTOMER else None,
        "attachment": attachment_of(message),
        "location": location_of(message),
        "created_at": timestamp(message.created_at),
    }


def message_for_staff(message, *, names: dict | None = None) -> dict:
    """Any item as staff see it: both numbers, kind, visibility, author (StaffMessageOut)."""
    author, subject = _names(message, names)
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "staff_seq": message.staff_seq,
        "sender": message.sender,
        "kind": message.kind,
        "visibility": message.visibility,
        "author": {"id": message.author_id, "name": author} if message.author_id else None,
        "agent_name": author if message.sender != Sender.CUSTOMER else None,
        "text": Message.text(message, author, subject),
        # A system line's own words (the note of a transfer, for its receiver; of a move to
        # another queue; of a rejection), else null.
        "note": (Message.line_and_note(message)[1] or None) if message.kind == Kind.SYSTEM else None,
        "system_code": message.system_code or None,
        "params": _line_params(message, author, subject),
        "client_message_id": message.client_message_id,
        "attachment": attachment_of(message),
        "location": location_of(message),
        "created_at": timestamp(message.created_at),
    }


def message_for(principal, message: Message, *, names: dict | None = None) -> dict:
    return (message_for_customer if principal.is_customer else message_for_staff)(message, names=names)


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


def line_contact(customer, line_of_business_id: int | None):
    """The contact a line related the customer to, if any (lists prefetch them: selectors.CONTACT_LINKS)."""
    return next((link.contact for link in customer.contact_links.all()
                 if link.line_of_business_id == line_of_business_id), None)


def contact_card(contact) -> dict:
    """A contact as staff see it (ContactCard)."""
    return {"id": contact.id, "name": contact.display_name, "first_name": contact.first_name,
            "last_name": contact.last_name, "email": contact.email, "phone": contact.phone,
            "company": contact.company, "address": contact.address}


def channel_capabilities(channel) -> dict:
    """What a channel carries besides text, and its largest file (docs/protocol.md §16)."""
    return {"carries": channel.carries(), "max_file_mb": channel.file_limit_mb()}


def closes_at(conversation: Conversation):
    """When auto-close ends it if the customer does not write (its channel's hours after
    they last did); None once ended or when the channel never auto-closes."""
    hours = conversation.channel.auto_close_hours
    if conversation.state == ConversationState.ENDED or not hours:
        return None
    return conversation.customer_active_at + timedelta(hours=hours)


def conversation_for_staff(conversation: Conversation, *, unread_count: int) -> dict:
    """The staff view. `read_seq` is the reader's own mark (staff numbers) when the
    caller annotated it as `my_read_seq`."""
    agent = conversation.assigned_agent
    customer = conversation.customer
    contact = line_contact(customer, conversation.line_of_business_id)
    return {
        "id": conversation.id,
        "state": conversation.state,
        "case_id": conversation.case_id,
        "topic": {"id": conversation.topic_id, "name": conversation.topic.name},
        "case_type": {"id": conversation.case.case_type_id, "name": conversation.case.case_type.name},
        "case_status": {"id": conversation.case.status_id, "name": conversation.case.status.name,
                        "resolved": conversation.case.status.is_resolved},
        "outbound": conversation.outbound,
        "channel": conversation.channel.kind,
        "channel_carries": conversation.channel.carries(),
        "channel_max_file_mb": conversation.channel.file_limit_mb(),
        "queue": {"id": conversation.queue_id, "name": conversation.queue.name},
        "tags": [{"id": tag.id, "name": tag.name} for tag in conversation.tags.all()],
        "end_reason": conversation.end_reason or None,
        "rejection": conversation.rejection or None,
        "customer": {
            "id": customer.id,
            # A guest related to a contact of this line goes by the contact's name (Recognized);
            # a customer the bank's sign-in named keeps that name.
            "name": contact.display_name if contact and not customer.is_authenticated else customer.display_name,
            "authenticated": customer.is_authenticated,
            "details": [{"label": claim["label"], "value": claim["value"]} for claim in (customer.claims or {}).values()
                        if isinstance(claim, dict) and {"label", "value"} <= claim.keys()],
            "barred": customer.barred_at is not None,
            "contact": contact_card(contact) if contact else None,
        },
        "assigned_agent": {"id": agent.id, "name": agent.display_name} if agent else None,
        "last_seq": conversation.last_seq,
        "last_staff_seq": conversation.last_staff_seq,
        "watchers": list(conversation.watchers or ()),
        "unread_count": unread_count,
        "read_seq": getattr(conversation, "my_read_seq", 0),
        "customer_delivered_seq": conversation.customer_delivered_seq,
        "customer_read_seq": conversation.customer_read_seq,
        "created_at": timestamp(conversation.created_at),
        "accepted_at": timestamp(conversation.accepted_at),
        "ended_at": timestamp(conversation.ended_at),
        "last_message_at": timestamp(conversation.last_message_at),
        "closes_at": timestamp(closes_at(conversation)),
    }
