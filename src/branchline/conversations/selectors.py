"""Every read of conversations and messages, scoped to who is asking.

`access_conversation` is the permission-checked fetch: another customer's conversation,
or one outside a staff member's reach, is reported as not found (never confirmed)."""
from django.db.models import Count, F, Q

from branchline.accounts.principals import Principal
from branchline.core.errors import NotFound

from .models import Conversation, ConversationState, Message, Sender

RELATED = ("topic", "case__case_type", "customer", "assigned_agent", "channel")


def _staff_scope(principal: Principal) -> Q:
    """Conversations a member of staff may see now: their own, and their line of
    business's waiting queue. (Supervisors' wider view comes with the supervision issue.)"""
    return Q(assigned_agent_id=principal.id) | Q(
        state=ConversationState.WAITING, line_of_business_id=principal.line_of_business_id
    )


def conversations_visible_to(principal: Principal):
    if principal.is_customer:
        return Conversation.objects.filter(customer_id=principal.id)
    return Conversation.objects.filter(_staff_scope(principal))


def access_conversation(principal: Principal, conversation_id, *, for_update=False, queryset=None) -> Conversation:
    try:
        conversation_id = int(conversation_id)
    except (TypeError, ValueError):
        raise NotFound(code="conversation_not_found") from None
    queryset = conversations_visible_to(principal) if queryset is None else queryset
    # NO KEY UPDATE: new messages reference this row; their foreign-key checks must not wait.
    queryset = queryset.select_for_update(no_key=True) if for_update else queryset.select_related(*RELATED)
    conversation = queryset.filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFound(code="conversation_not_found")
    return conversation


def access_queue_conversation(principal: Principal, conversation_id, *, for_update=False) -> Conversation:
    """For taking a conversation: any conversation of the agent's line of business, so
    that the loser of a race hears "already taken" rather than "not found"."""
    if not principal.is_staff:
        raise NotFound(code="conversation_not_found")
    queryset = Conversation.objects.filter(line_of_business_id=principal.line_of_business_id)
    return access_conversation(principal, conversation_id, for_update=for_update, queryset=queryset)


def unread_for_staff_q() -> Q:
    return Q(messages__sender=Sender.CUSTOMER, messages__seq__gt=F("agent_read_seq"))


def conversations_for_staff(principal: Principal, *, state: str, limit: int = 100):
    """A console list with unread counts in one query."""
    if state == ConversationState.WAITING:
        queryset = Conversation.objects.filter(
            state=ConversationState.WAITING, line_of_business_id=principal.line_of_business_id
        ).order_by("created_at")
    else:
        queryset = Conversation.objects.filter(assigned_agent_id=principal.id, state=state).order_by("-last_message_at")
    return list(
        queryset.select_related(*RELATED).annotate(unread=Count("messages", filter=unread_for_staff_q()))[:limit]
    )


def staff_unread_count(conversation: Conversation) -> int:
    return conversation.messages.filter(sender=Sender.CUSTOMER, seq__gt=conversation.agent_read_seq).count()


def customer_unread_count(customer_id: int) -> int:
    """Messages from the bank the customer has not read yet, across conversations."""
    return (
        Message.objects.filter(customer_id=customer_id, sender__in=[Sender.AGENT, Sender.SYSTEM])
        .filter(seq__gt=F("conversation__customer_read_seq"))
        .count()
    )


def customer_open_conversation(customer_id: int) -> Conversation | None:
    return (
        Conversation.objects.filter(customer_id=customer_id)
        .exclude(state=ConversationState.ENDED)
        .select_related(*RELATED)
        .order_by("-created_at")
        .first()
    )


def customer_current_conversation(customer_id: int) -> Conversation | None:
    """What the widget shows: the open conversation, else the latest one."""
    return customer_open_conversation(customer_id) or (
        Conversation.objects.filter(customer_id=customer_id).select_related(*RELATED).order_by("-created_at").first()
    )


def messages_for_customer_before(customer_id: int, *, before_id: int | None, limit: int) -> list[Message]:
    """A page of the customer's whole history (all conversations), newest first."""
    queryset = Message.objects.filter(customer_id=customer_id)
    if before_id is not None:
        queryset = queryset.filter(id__lt=before_id)
    return list(queryset.select_related("agent").order_by("-id")[:limit])


def messages_in_conversation_before(conversation: Conversation, *, before_seq: int | None, limit: int) -> list[Message]:
    queryset = conversation.messages.all()
    if before_seq is not None:
        queryset = queryset.filter(seq__lt=before_seq)
    return list(queryset.select_related("agent").order_by("-seq")[:limit])


def messages_missed(principal: Principal, cursors: dict[int, int], *,
                    limit_per_conversation: int = 1000) -> list[Message]:
    """Messages after each cursor, for the conversations `principal` may see, in seq
    order per conversation. Used to resume a socket and to resync after a bus outage."""
    if not cursors:
        return []
    visible = set(conversations_visible_to(principal).filter(pk__in=list(cursors)).values_list("pk", flat=True))
    missed: list[Message] = []
    for conversation_id in sorted(visible):
        missed.extend(
            Message.objects.filter(conversation_id=conversation_id, seq__gt=cursors[conversation_id])
            .select_related("agent")
            .order_by("seq")[:limit_per_conversation]
        )
    return missed
