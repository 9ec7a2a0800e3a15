"""Who handles a conversation, and its state: accept, end, release, transfer, a
supervisor joining, and the sweeps that end abandoned guest chats and return chats of away
agents to the queue. Each action checks permission, writes in one transaction and
publishes after commit."""
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from branchline.accounts.models import User
from branchline.accounts.permissions import HANDLING_ROLES, Action
from branchline.accounts.principals import Principal
from branchline.cases.actions import case_handler_add
from branchline.connectors.models import Channel
from branchline.contacts.models import Customer
from branchline.core.errors import Conflict, InvalidInput, NotFound
from branchline.events import SYSTEM, Actor, publish
from branchline.routing.selectors import granted

from ..events import (
    ConversationAccepted,
    ConversationReleased,
    ConversationTransferred,
    SupervisorJoined,
    SupervisorLeft,
)
from ..models import (
    Conversation,
    ConversationState,
    EndReason,
    Message,
    Participant,
    ParticipantRole,
    Sender,
    SystemCode,
    Visibility,
)
from ..selectors import access_conversation, parse_id
from . import streams
from .lines import conversation_close, staff_user, system_line
from .messages import clean_note


def _limits():
    return settings.BRANCHLINE


def _follow(conversation: Conversation, user: User, role: str) -> None:
    """Make `user` a participant following the conversation live (row locked by caller)."""
    participant, created = Participant.objects.get_or_create(conversation=conversation, user=user,
                                                             defaults={"role": role})
    if not created and (participant.left_at is not None or participant.role != role):
        participant.left_at, participant.role = None, role
        participant.save(update_fields=["left_at", "role"])
    if user.id not in conversation.watchers:
        conversation.watchers = [*conversation.watchers, user.id]


def _unfollow(conversation: Conversation, user_id: int) -> None:
    Participant.objects.filter(conversation=conversation, user_id=user_id, left_at=None).update(left_at=timezone.now())
    conversation.watchers = [watcher for watcher in conversation.watchers if watcher != user_id]



def conversation_accept(*, principal: Principal, conversation_id) -> Conversation:
    """An agent takes a waiting conversation. Of two agents accepting at once, exactly
    one wins; the other gets Conflict (already_taken)."""
    with transaction.atomic():
        conversation = access_conversation(principal, conversation_id, Action.ACCEPT, for_update=True)
        if conversation.state == ConversationState.ENDED:
            raise Conflict(_("This conversation has ended."), code="conversation_ended")
        if conversation.state != ConversationState.WAITING:
            if conversation.assigned_agent_id == principal.id:
                return conversation  # a retried accept
            raise Conflict(_("Another agent has already taken this conversation."), code="already_taken")
        agent = staff_user(principal)
        conversation.state = ConversationState.ACTIVE
        conversation.assigned_agent = agent
        conversation.accepted_at = timezone.now()
        _follow(conversation, agent, ParticipantRole.AGENT)
        conversation.save(update_fields=["state", "assigned_agent", "accepted_at", "watchers"])
        case_handler_add(case_id=conversation.case_id, user_id=agent.id)
        actor = Actor.of(principal)
        system_line(conversation.id, SystemCode.AGENT_JOINED, actor=actor, author=agent)
        publish(ConversationAccepted(actor=actor, agent_id=agent.id, **streams.routing(conversation)))
    return conversation


def conversation_end(*, principal: Principal, conversation_id) -> Conversation:
    with transaction.atomic():
        conversation = access_conversation(principal, conversation_id, Action.END, for_update=True)
        if conversation.state == ConversationState.ENDED:
            return conversation
        conversation_close(conversation, EndReason.AGENT, SystemCode.ENDED, Actor.of(principal))
    return conversation


def _back_to_queue(conversation: Conversation, code: str, author: User, *, assigned: User, actor: Actor) -> None:
    """The conversation waits again, visible to its whole queue; the agent stops following it."""
    conversation.state = ConversationState.WAITING
    conversation.assigned_agent = None
    _unfollow(conversation, assigned.id)
    conversation.save(update_fields=["state", "assigned_agent", "watchers"])
    system_line(conversation.id, code, actor=actor, visibility=Visibility.STAFF, author=author)
    publish(ConversationReleased(actor=actor, agent_id=assigned.id, away=code == SystemCode.AGENT_AWAY,
                                 also_tell=(assigned.id,), **streams.routing(conversation)))


def conversation_release(*, principal: Principal, conversation_id) -> Conversation:
    """The agent handling a conversation (or a supervisor) puts it back in the queue for
    another agent to take. The customer sees only that they wait again."""
    with transaction.atomic():
        conversation = access_conversation(principal, conversation_id, Action.RELEASE, for_update=True)
        if conversation.state != ConversationState.ACTIVE:
            raise Conflict(_("Only a conversation in progress can be returned to the queue."),
                           code="conversation_not_active")
        _back_to_queue(conversation, SystemCode.RELEASED, staff_user(principal), assigned=conversation.assigned_agent,
                       actor=Actor.of(principal))
    return conversation


def transfer_candidates(conversation: Conversation):
    """Who may receive a conversation: active members of staff of its line of business
    who handle conversations and are granted its channel."""
    return granted(User.objects.filter(is_active=True, role__in=HANDLING_ROLES,
                                       line_of_business_id=conversation.line_of_business_id), conversation.channel_id)


def conversation_transfer(*, principal: Principal, conversation_id, to_user_id, note: str = "") -> Conversation:
    """Hand a conversation to another member of staff, with a note only staff can read.

    The receiver follows it from now on and may read everything before it; the sender
    stops following it but keeps it among the conversations they handled. The customer
    sees only "<receiver> joined the conversation"."""
    note = clean_note(note)
    with transaction.atomic():
        conversation = access_conversation(principal, conversation_id, Action.TRANSFER, for_update=True)
        if conversation.state == ConversationState.ENDED:
            raise Conflict(_("This conversation has ended."), code="conversation_ended")
        receiver = transfer_candidates(conversation).filter(pk=parse_id(to_user_id, code="user_not_found")).first()
        if receiver is None:
            raise NotFound(_("Nobody by that id can receive this conversation."), code="user_not_found")
        if receiver.id == conversation.assigned_agent_id:
            raise InvalidInput(_("The conversation is already theirs."), code="transfer_to_self")
        sender, previous = staff_user(principal), conversation.assigned_agent
        if previous is not None:
            _unfollow(conversation, previous.id)
        _follow(conversation, receiver, ParticipantRole.AGENT)
        conversation.state = ConversationState.ACTIVE
        conversation.assigned_agent = receiver
        conversation.accepted_at = timezone.now()  # when the agent handling it now took it
        conversation.save(update_fields=["state", "assigned_agent", "accepted_at", "watchers"])
        case_handler_add(case_id=conversation.case_id, user_id=receiver.id)
        actor = Actor.of(principal)
        system_line(conversation.id, SystemCode.TRANSFERRED, actor=actor, visibility=Visibility.STAFF, author=sender,
                     subject=receiver, body=note)
        system_line(conversation.id, SystemCode.AGENT_JOINED, actor=actor, author=receiver)
        publish(ConversationTransferred(actor=actor, from_agent_id=previous.id if previous else None,
                                        to_agent_id=receiver.id, with_note=bool(note),
                                        also_tell=(previous.id,) if previous else (), **streams.routing(conversation)))
    return conversation


def conversation_join(*, principal: Principal, conversation_id) -> Conversation:
    """A supervisor joins any conversation of their line of business, silently: staff see
    a staff-only line; the customer sees nothing until the supervisor writes to them."""
    with transaction.atomic():
        conversation = access_conversation(principal, conversation_id, Action.JOIN, for_update=True)
        if principal.id in conversation.watchers:
            return conversation  # a retried join
        supervisor = staff_user(principal)
        _follow(conversation, supervisor, ParticipantRole.SUPERVISOR)
        conversation.save(update_fields=["watchers"])
        actor = Actor.of(principal)
        system_line(conversation.id, SystemCode.SUPERVISOR_JOINED, actor=actor, visibility=Visibility.STAFF,
                     author=supervisor)
        publish(SupervisorJoined(actor=actor, supervisor_id=supervisor.id, **streams.routing(conversation)))
    return conversation


def conversation_leave(*, principal: Principal, conversation_id) -> Conversation:
    """A supervisor stops following a conversation they joined."""
    with transaction.atomic():
        conversation = access_conversation(principal, conversation_id, Action.JOIN, for_update=True)
        if principal.id in conversation.watchers and conversation.assigned_agent_id != principal.id:
            _unfollow(conversation, principal.id)
            conversation.save(update_fields=["watchers"])
            publish(SupervisorLeft(actor=Actor.of(principal), supervisor_id=principal.id, also_tell=(principal.id,),
                                   **streams.routing(conversation)))
    return conversation


def conversations_end_abandoned(*, grace_seconds: int | None = None) -> int:
    """Anonymous customers are live only: end the open conversations of those whose
    sockets have all been gone for longer than the grace period. Idempotent; every
    gateway process runs it periodically."""
    grace = grace_seconds if grace_seconds is not None else _limits()["ANONYMOUS_GRACE_SECONDS"]
    cutoff = timezone.now() - timedelta(seconds=grace)
    candidates = list(
        Conversation.objects.exclude(state=ConversationState.ENDED)
        .filter(customer__is_authenticated=False, customer__last_seen_at__lt=cutoff)
        .values_list("pk", flat=True)[:500]
    )
    ended = 0
    for conversation_id in candidates:
        with transaction.atomic():
            conversation = (
                Conversation.objects.select_for_update(no_key=True, of=("self",))
                .filter(pk=conversation_id, customer__last_seen_at__lt=cutoff)
                .exclude(state=ConversationState.ENDED)
                .first()
            )
            if conversation is not None:
                conversation_close(conversation, EndReason.CUSTOMER_LEFT, SystemCode.CUSTOMER_LEFT, SYSTEM)
                ended += 1
    return ended


def conversations_close_inactive(*, now=None) -> int:
    """Auto-close (docs/protocol.md §9): an open conversation whose customer has not written
    for its channel's `auto_close_hours` (0: never) ends, `end_reason` `inactive`, with a
    public `auto_closed` line. Idempotent and safe in several processes at once: each
    conversation is locked (one another process holds is skipped) and checked again.
    `now`: the clock, for tests."""
    now = now or timezone.now()
    closed = 0
    for channel_id, hours in Channel.objects.filter(auto_close_hours__gt=0).values_list("id", "auto_close_hours"):
        cutoff = now - timedelta(hours=hours)
        idle = Q(channel_id=channel_id, customer_active_at__lt=cutoff) & ~Q(state=ConversationState.ENDED)
        for conversation_id in list(Conversation.objects.filter(idle).values_list("pk", flat=True)[:500]):
            with transaction.atomic():
                conversation = (Conversation.objects.select_for_update(no_key=True, skip_locked=True)
                                .filter(idle, pk=conversation_id).first())
                if conversation is not None:
                    conversation_close(conversation, EndReason.INACTIVE, SystemCode.AUTO_CLOSED, SYSTEM,
                                       body=str(hours))
                    closed += 1
    return closed


def _away_q(cutoff) -> Q:
    """Active, its agent away since before `cutoff`, and the customer wrote after the agent
    took it and was last seen: without this the customer would wait on someone who is not
    there."""
    wrote_since = Message.objects.filter(conversation_id=OuterRef("pk"), sender=Sender.CUSTOMER,
                                         created_at__gt=OuterRef("assigned_agent__last_seen_at"),
                                         ).filter(created_at__gt=OuterRef("accepted_at"))
    away = Q(assigned_agent__last_seen_at__lt=cutoff)
    return Q(state=ConversationState.ACTIVE) & away & Q(Exists(wrote_since))


def conversations_release_from_away_agents(*, grace_seconds: int | None = None) -> int:
    """The away-agent rule (docs/protocol.md §9): a conversation in progress whose agent has
    had no socket open for longer than the grace period and whose customer has written
    since goes back to the queue. Idempotent and safe in several processes at once."""
    grace = grace_seconds if grace_seconds is not None else _limits()["AGENT_AWAY_SECONDS"]
    cutoff = timezone.now() - timedelta(seconds=grace)
    candidates = list(Conversation.objects.filter(_away_q(cutoff)).values_list("pk", flat=True)[:500])
    released = 0
    for conversation_id in candidates:
        with transaction.atomic():
            conversation = (Conversation.objects.select_for_update(no_key=True, of=("self",))
                            .filter(_away_q(cutoff), pk=conversation_id).select_related("assigned_agent").first())
            if conversation is not None:
                agent = conversation.assigned_agent
                _back_to_queue(conversation, SystemCode.AGENT_AWAY, agent, assigned=agent, actor=SYSTEM)
                released += 1
    return released


def customers_seen(customer_ids) -> None:
    """The gateway's heartbeat: these customers have a socket open right now."""
    if customer_ids:
        Customer.objects.filter(pk__in=list(customer_ids)).update(last_seen_at=timezone.now())


def staff_seen(user_ids) -> None:
    """The gateway's heartbeat: these members of staff have a socket open right now."""
    if user_ids:
        User.objects.filter(pk__in=list(user_ids)).update(last_seen_at=timezone.now())

