"""Every write to conversations, participants and messages, whether it comes from the API,
a page, a socket frame, a connector or a sweep (house rule 1: a test fails on database
writes anywhere else)."""
from .lifecycle import (
    conversation_accept,
    conversation_end,
    conversation_join,
    conversation_leave,
    conversation_release,
    conversation_transfer,
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
    typing_signal,
)

__all__ = [
    "clean_body", "clean_client_message_id", "conversation_accept", "conversation_end", "conversation_join",
    "conversation_leave", "conversation_release", "conversation_transfer", "conversations_end_abandoned",
    "conversations_release_from_away_agents", "customer_message_send", "customers_seen", "receipt_update",
    "staff_message_send", "staff_seen", "transfer_candidates", "typing_signal",
]
