"""System lines in a conversation's streams, and ending a conversation: shared by the
lifecycle, sending (the post-resolve rule ends a stale conversation) and case actions."""
from django.utils import timezone

from branchline.accounts.models import Role, User
from branchline.events import Actor, publish

from ..events import ConversationEnded
from ..models import Conversation, ConversationState, Kind, Message, Participant, ParticipantRole, Sender, Visibility
from . import streams


def system_line(conversation_id: int, code: str, *, actor: Actor, visibility=Visibility.PUBLIC, author=None,
                 subject=None, body="", client_message_id=None) -> Message:
    """A system line in the conversation's streams (public, or staff-only). `client_message_id`:
    the id of the request that wrote it, where a retry must find it (outbound)."""
    conversation = streams.allocate_by_id(conversation_id, public=visibility == Visibility.PUBLIC)
    names = {user.id: user.display_name for user in (author, subject) if user is not None}
    return streams.insert(conversation, actor=actor, sender=Sender.SYSTEM, kind=Kind.SYSTEM, visibility=visibility,
                          system_code=code, body=body, author_id=author.id if author else None,
                          subject_id=subject.id if subject else None, client_message_id=client_message_id,
                          names=names)


def staff_user(principal) -> User:
    return User.objects.get(pk=principal.id)


def kept_as_handled(conversation: Conversation, user: User) -> None:
    """`user` acted on the conversation without taking it (rejected it, barred its customer):
    a participant who left at once, so it stays among the conversations they handled."""
    role = ParticipantRole.SUPERVISOR if user.role == Role.SUPERVISOR else ParticipantRole.AGENT
    Participant.objects.get_or_create(conversation=conversation, user=user,
                                      defaults={"role": role, "left_at": timezone.now()})


def conversation_close(conversation: Conversation, reason: str, system_code: str, actor: Actor, *,
                       rejection: str = "", body: str = "") -> None:
    """End a conversation (row locked by the caller): its state, a public line (`body`: what
    its text names), the event. Its agent and followers keep it among those they handled."""
    conversation.state = ConversationState.ENDED
    conversation.ended_at = timezone.now()
    conversation.end_reason, conversation.rejection = reason, rejection
    conversation.save(update_fields=["state", "ended_at", "end_reason", "rejection"])
    system_line(conversation.id, system_code, actor=actor, body=body)
    publish(ConversationEnded(actor=actor, reason=reason, rejection=rejection, **streams.routing(conversation)))
