"""Sending a conversation to another queue, and rejecting one (docs/adr/0019). Each checks
permission, writes in one transaction and publishes after commit."""
from django.db import transaction
from django.utils.translation import gettext as _

from branchline.accounts.permissions import Action
from branchline.accounts.principals import Principal
from branchline.core.errors import Conflict, InvalidInput, NotFound
from branchline.events import Actor, publish
from branchline.routing.models import Queue

from ..events import ConversationQueued
from ..models import ConversationState, EndReason, Rejection, SystemCode, Visibility
from ..selectors import access_conversation, parse_id
from . import streams
from .lifecycle import _unfollow
from .lines import conversation_close, kept_as_handled, staff_user, system_line
from .messages import clean_note


def conversation_queue_set(*, principal: Principal, conversation_id, queue_id, note: str = ""):
    """Send a conversation to another queue of its line of business, to wait there: any
    agent enabled on that queue (and granted its channel) may take it from then on. From
    the agent handling it (who stops following it) or a supervisor; a waiting one also from
    whoever may take it. A staff-only line names the queue, with the optional note; the
    customer sees only that they wait again."""
    note = clean_note(note)
    with transaction.atomic():
        conversation = access_conversation(principal, conversation_id, Action.QUEUE, for_update=True, related=False)
        if conversation.state == ConversationState.ENDED:
            raise Conflict(_("This conversation has ended."), code="conversation_ended")
        queue = Queue.objects.filter(pk=parse_id(queue_id, code="queue_not_found"),
                                     line_of_business_id=conversation.line_of_business_id).first()
        if queue is None:
            raise NotFound(_("No queue of this conversation's line of business has that id."), code="queue_not_found")
        if queue.id == conversation.queue_id and conversation.state == ConversationState.WAITING:
            raise InvalidInput(_("The conversation already waits in that queue."), code="queue_unchanged")
        # Its old queue's audience hears that it left only if it waited there.
        was_waiting = conversation.state == ConversationState.WAITING
        previous_queue = conversation.queue_id if was_waiting else None
        previous_agent = conversation.assigned_agent_id
        conversation.queue_id, conversation.state = queue.id, ConversationState.WAITING
        conversation.assigned_agent_id = None
        if previous_agent is not None:
            _unfollow(conversation, previous_agent)
        conversation.save(update_fields=["queue", "state", "assigned_agent", "watchers"])
        actor = Actor.of(principal)
        body = f"{queue.name}\n{note}" if note else queue.name
        system_line(conversation.id, SystemCode.QUEUED, actor=actor, visibility=Visibility.STAFF,
                    author=staff_user(principal), body=body)
        publish(ConversationQueued(actor=actor, from_queue_id=previous_queue, with_note=bool(note),
                                   also_tell=(previous_agent,) if previous_agent else (),
                                   **streams.routing(conversation)))
    return conversation


def conversation_reject(*, principal: Principal, conversation_id, rejection, note: str = ""):
    """End a conversation as a duplicate, spam, abuse or for another reason, instead of
    taking it up: from whoever may take it while it waits, or the agent handling it (or a
    supervisor). Staff read the reason in a staff-only line; the customer reads only that
    the conversation has ended, and their next message starts a new one. The rejecter
    keeps it among the conversations they handled."""
    if rejection not in Rejection.values:
        raise InvalidInput(_("Choose a reason: %(reasons)s.") % {"reasons": ", ".join(Rejection.values)},
                           code="rejection_invalid")
    note = clean_note(note)
    if rejection == Rejection.OTHER and not note:
        raise InvalidInput(_("Say why in the note."), code="note_required")
    with transaction.atomic():
        # Ended (a retried reject among others) answers as such, whoever may see it.
        if access_conversation(principal, conversation_id, for_update=True,
                               related=False).state == ConversationState.ENDED:
            raise Conflict(_("This conversation has ended."), code="conversation_ended")
        conversation = access_conversation(principal, conversation_id, Action.REJECT, related=False)
        actor = Actor.of(principal)
        rejecter = staff_user(principal)
        kept_as_handled(conversation, rejecter)  # it stays among the rejecter's ended conversations
        label = str(Rejection(rejection).label)
        system_line(conversation.id, SystemCode.REJECTED, actor=actor, visibility=Visibility.STAFF,
                    author=rejecter, body=f"{label}\n{note}" if note else label)
        conversation.rejection = rejection
        conversation_close(conversation, EndReason.REJECTED, SystemCode.ENDED, actor, rejection=rejection)
    return conversation
