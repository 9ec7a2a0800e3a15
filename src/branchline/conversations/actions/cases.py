"""The case workflow, as agents drive it from a conversation (seed 001, docs/adr/0018):
a case's status, its topic (and so its case type) during the conversation, and outbound
"Continue conversation" to an authenticated customer. Each change is also a staff-only
line in the conversation's staff stream, which is what the case's timeline shows.

Locks are taken conversation first, then case, as every conversation action does."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branchline.accounts.permissions import Action, CaseAction
from branchline.accounts.principals import Principal
from branchline.cases.actions import case_handler_add, case_status_apply, case_topic_apply
from branchline.cases.models import Case, CaseStatus, Topic
from branchline.cases.selectors import access_case
from branchline.contacts.models import Customer
from branchline.core.errors import Conflict, Forbidden, NotFound
from branchline.core.ids import parse_id
from branchline.events import Actor, publish

from ..events import CaseStatusChanged, CaseTopicChanged, ConversationContinued
from ..models import (
    Conversation,
    ConversationState,
    Kind,
    Message,
    Participant,
    ParticipantRole,
    Sender,
    SystemCode,
    Visibility,
)
from ..selectors import access_conversation
from . import streams
from .lines import staff_user, system_line
from .messages import clean_body, clean_client_message_id, conversation_open


def _topic_of_line(topic_id, line_of_business_id: int) -> Topic:
    """An active topic of the line (a conversation never leaves its line of business)."""
    topic = (Topic.objects.select_related("case_type")
             .filter(pk=parse_id(topic_id, code="topic_not_found"), is_active=True,
                     case_type__line_of_business_id=line_of_business_id).first())
    if topic is None:
        raise NotFound(_("That topic is not one of this line of business."), code="topic_not_found")
    return topic


def case_status_set(*, principal: Principal, case_id, status_id) -> Case:
    """Set a case's status to any of its line's. During a conversation of the case (not
    ended) any change is allowed; once they have all ended, only while the case is not
    resolved (a resolved case is closed). A retry with the same status changes nothing."""
    case = access_case(principal, case_id, CaseAction.STATUS)
    status = CaseStatus.objects.filter(pk=parse_id(status_id, code="case_status_not_found"),
                                       line_of_business_id=case.line_of_business_id).first()
    if status is None:
        raise NotFound(_("That status is not one of this case's line of business."), code="case_status_not_found")
    with transaction.atomic():
        latest = (Conversation.objects.select_for_update(no_key=True).filter(case_id=case.id)
                  .order_by("-id").first())
        case = access_case(principal, case.id, CaseAction.STATUS, for_update=True)
        in_progress = Conversation.objects.filter(case_id=case.id).exclude(state=ConversationState.ENDED).exists()
        if case.status_id == status.id:
            return case
        if case.status.is_resolved and not in_progress:
            raise Conflict(_("This case is resolved; its status can change only during a conversation."),
                           code="case_resolved")
        previous = case.status
        case_status_apply(case, status)
        actor = Actor.of(principal)
        system_line(latest.id, SystemCode.CASE_STATUS, actor=actor, visibility=Visibility.STAFF,
                    author=staff_user(principal), body=status.name)
        publish(CaseStatusChanged(actor=actor, case_id=case.id, status_id=status.id, previous_status_id=previous.id,
                                  resolved=status.is_resolved, **streams.routing(latest)))
    return case


def conversation_topic_set(*, principal: Principal, conversation_id, topic_id) -> Conversation:
    """During a conversation, its handler (or a supervisor) moves it and its case to another
    topic of the line, and so to that topic's case type (seed 001: "Credit Card" turns out
    to be a loan)."""
    with transaction.atomic():
        conversation = access_conversation(principal, conversation_id, Action.TOPIC, for_update=True)
        if conversation.state == ConversationState.ENDED:
            raise Conflict(_("The topic changes only during the conversation."), code="conversation_ended")
        topic = _topic_of_line(topic_id, conversation.line_of_business_id)
        if topic.id == conversation.topic_id:
            return conversation
        previous_topic_id = conversation.topic_id
        case = Case.objects.select_for_update(no_key=True).get(pk=conversation.case_id)
        case_topic_apply(case, topic)
        conversation.topic = topic
        conversation.save(update_fields=["topic"])
        actor = Actor.of(principal)
        system_line(conversation.id, SystemCode.TOPIC_CHANGED, actor=actor, visibility=Visibility.STAFF,
                    author=staff_user(principal), body=f"{topic.name} ({topic.case_type.name})")
        publish(CaseTopicChanged(actor=actor, case_id=case.id, topic_id=topic.id, case_type_id=topic.case_type_id,
                                 previous_topic_id=previous_topic_id, **streams.routing(conversation)))
    return conversation


def conversation_continue(*, principal: Principal, conversation_id, topic_id, body=None,
                          client_message_id=None) -> Conversation:
    """Outbound: from an ended conversation, its agent writes to the authenticated customer
    again on a chosen topic. The new conversation is in progress and the agent's; it joins
    the customer's open case of that topic's case type, or starts a new case. The customer
    finds it (and `body`, unread) live or when they next come. Never for a guest (seed 000:
    they cannot be contacted afterwards). A retry with the same client_message_id returns
    the conversation it started."""
    body = clean_body(body) if body is not None else None
    client_message_id = clean_client_message_id(client_message_id) if client_message_id is not None else None
    with transaction.atomic():
        ended = access_conversation(principal, conversation_id, Action.CONTINUE)
        customer = Customer.objects.select_for_update(no_key=True).get(pk=ended.customer_id)
        if not customer.is_authenticated:
            raise Forbidden(_("Only customers signed in with the bank can be written to after a conversation."),
                            code="customer_not_authenticated")
        if client_message_id is not None:  # the outbound line of a conversation this request started
            retried = Message.objects.filter(customer_id=customer.id, author_id=principal.id,
                                             system_code=SystemCode.OUTBOUND,
                                             client_message_id=client_message_id).first()
            if retried is not None:
                return Conversation.objects.get(pk=retried.conversation_id)
        if ended.state != ConversationState.ENDED:
            raise Conflict(_("Continue a conversation once it has ended."), code="conversation_not_ended")
        if customer.barred_at is not None:
            raise Conflict(_("This customer is barred: lift the bar on the Contacts page first."),
                           code="customer_barred")
        if Conversation.objects.filter(customer_id=customer.id).exclude(state=ConversationState.ENDED).exists():
            raise Conflict(_("The customer has a conversation open; write to them there."),
                           code="customer_has_open_conversation")
        topic = _topic_of_line(topic_id, ended.line_of_business_id)
        agent = staff_user(principal)
        conversation = conversation_open(customer=customer, topic=topic, state=ConversationState.ACTIVE,
                                         assigned_agent=agent, accepted_at=timezone.now(), outbound=True,
                                         watchers=[agent.id])
        Participant.objects.create(conversation=conversation, role=ParticipantRole.AGENT, user=agent)
        case = conversation.case
        case_handler_add(case_id=case.id, user_id=agent.id)
        actor = Actor.of(principal)
        system_line(conversation.id, SystemCode.OUTBOUND, actor=actor, visibility=Visibility.STAFF, author=agent,
                    client_message_id=client_message_id)
        system_line(conversation.id, SystemCode.AGENT_JOINED, actor=actor, author=agent)
        if body is not None:
            streams.insert(streams.allocate_by_id(conversation.id, public=True), actor=actor, sender=Sender.AGENT,
                           kind=Kind.TEXT, visibility=Visibility.PUBLIC, body=body, client_message_id=client_message_id,
                           author_id=agent.id, names={agent.id: agent.display_name})
        publish(ConversationContinued(actor=actor, from_conversation_id=ended.id, case_id=case.id, topic_id=topic.id,
                                      agent_id=agent.id, **streams.routing(conversation)))
    return conversation
