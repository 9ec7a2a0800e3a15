"""Every write to conversations, participants and messages, whether it comes from the API,
a page, a socket frame, a connector or a sweep (house rule 1: a test fails on database
writes anywhere else)."""
from .cases import case_status_set, conversation_continue, conversation_topic_set
from .contacts import customer_bar, customer_unbar
from .files import attachment_open, attachment_upload, attachments_unsent_delete
from .identity import customer_sso_redeem
from .lifecycle import (
    conversation_accept,
    conversation_end,
    conversation_join,
    conversation_leave,
    conversation_release,
    conversation_transfer,
    conversations_close_inactive,
    conversations_end_abandoned,
    conversations_release_from_away_agents,
    customers_seen,
    staff_seen,
    transfer_candidates,
)
from .messages import (
    clean_body,
    clean_client_message_id,
    customer_message_send,
    receipt_update,
    staff_message_send,
    staff_viewing,
    typing_signal,
)
from .queueing import conversation_queue_set, conversation_reject
from .reads import customer_data_read
from .recognition import contact_create, customer_contact_relate
from .tags import conversation_tag_set, tag_create

# The staff actions that take only a conversation: one list for the HTTP API and the socket.
STATE_CHANGES = {
    "accept": (conversation_accept, "Take a waiting conversation"),
    "end": (conversation_end, "End a conversation"),
    "release": (conversation_release, "Return a conversation in progress to the queue"),
    "join": (conversation_join, "Supervisors: follow a conversation of your line of business, silently"),
    "leave": (conversation_leave, "Supervisors: stop following a conversation you joined"),
}

__all__ = [
    "STATE_CHANGES",
    "attachment_open", "attachment_upload", "attachments_unsent_delete",
    "contact_create", "customer_contact_relate",
    "case_status_set", "conversation_continue", "conversation_topic_set",
    "clean_body", "clean_client_message_id", "conversation_accept", "conversation_end", "conversation_join",
    "customer_bar", "customer_unbar", "customer_data_read", "conversation_tag_set", "tag_create",
    "conversation_queue_set", "conversation_reject",
    "conversation_leave", "conversation_release", "conversation_transfer", "conversations_close_inactive",
    "conversations_end_abandoned",
    "conversations_release_from_away_agents", "customer_message_send", "customer_sso_redeem", "customers_seen",
    "receipt_update",
    "staff_message_send", "staff_seen", "staff_viewing", "transfer_candidates", "typing_signal",
]
