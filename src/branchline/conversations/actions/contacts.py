"""Barring a customer, and lifting it (docs/protocol.md §13). Each checks permission,
writes in one transaction, is audited and publishes after commit."""
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from branchline.accounts.permissions import LEADING_ROLES, Action, require_role
from branchline.accounts.principals import Principal
from branchline.contacts.models import Customer
from branchline.core.errors import Forbidden, InvalidInput, NotFound
from branchline.events import Actor, publish

from ..events import CustomerBarred
from ..models import (
    Conversation,
    ConversationState,
    EndReason,
    SystemCode,
    Visibility,
)
from ..selectors import access_conversation, parse_id
from .lines import conversation_close, kept_as_handled, staff_user, system_line

REASON_MAX = 500


def barred_refusal() -> Forbidden:
    """What a barred customer is told when they write or attach a file (nothing of it is kept)."""
    return Forbidden(_("You cannot send messages here. Please contact the bank another way."),
                     code="customer_barred")


def _clean_reason(reason) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(_("Say why the customer is barred."), code="reason_required")
    if "\x00" in reason:
        raise InvalidInput(_("The reason contains a character that cannot be stored."), code="reason_invalid")
    reason = " ".join(reason.split())
    if len(reason) > REASON_MAX:
        raise InvalidInput(_("The reason is longer than %(max)s characters.") % {"max": REASON_MAX},
                           code="reason_too_long")
    return reason


def customer_bar(*, principal: Principal, conversation_id, reason) -> Customer:
    """Bar the customer of a conversation: from now on their messages are dropped before
    they reach anyone (counted, never a conversation), and every open conversation of
    theirs ends at once (`end_reason` `barred`, a staff-only `barred` line with the reason,
    then the public `ended` line). By whoever may take the conversation while it waits, or
    its agent or a supervisor. Barring a barred customer changes nothing."""
    reason = _clean_reason(reason)
    customer_id = access_conversation(principal, conversation_id, related=False).customer_id
    with transaction.atomic():
        # The customer's row first, as their sends take it before a conversation's: no deadlock.
        customer = Customer.objects.select_for_update(no_key=True).get(pk=customer_id)
        if customer.barred_at is not None:  # barred already (a retry among others): nothing to do
            return customer
        conversation = access_conversation(principal, conversation_id, Action.BAR, related=False)
        customer.barred_at, customer.barred_by, customer.bar_reason = timezone.now(), principal.display_name, reason
        customer.save(update_fields=["barred_at", "barred_by", "bar_reason"])
        actor, author = Actor.of(principal), staff_user(principal)
        kept_as_handled(conversation, author)  # it stays among the barrer's (and a retry finds it)
        open_ones = list(Conversation.objects.select_for_update(no_key=True).filter(customer_id=customer.id)
                         .exclude(state=ConversationState.ENDED).order_by("id"))
        if conversation.id not in {c.id for c in open_ones}:  # barred after its end: said where it was done
            system_line(conversation.id, SystemCode.BARRED, actor=actor, visibility=Visibility.STAFF, author=author,
                        body=reason)
        for open_one in open_ones:
            system_line(open_one.id, SystemCode.BARRED, actor=actor, visibility=Visibility.STAFF, author=author,
                        body=reason)
            conversation_close(open_one, EndReason.BARRED, SystemCode.ENDED, actor)
        publish(CustomerBarred(actor=actor, customer_id=customer.id, conversation_id=conversation.id, barred=True,
                               reason=reason, closed=tuple(c.id for c in open_ones)))
    return customer


def customer_unbar(*, principal: Principal, customer_id) -> Customer:
    """Lift a bar: the customer may write again. Supervisors and administrators, for a
    customer who wrote to their line of business."""
    require_role(principal, LEADING_ROLES, _("Only supervisors and administrators lift a bar."))
    with transaction.atomic():
        customer = _contact_of_line(principal, customer_id, for_update=True)
        if customer.barred_at is None:
            return customer
        customer.barred_at, customer.barred_by, customer.bar_reason = None, "", ""
        customer.save(update_fields=["barred_at", "barred_by", "bar_reason"])
        publish(CustomerBarred(actor=Actor.of(principal), customer_id=customer.id, conversation_id=None,
                               barred=False))
    return customer


def _contact_of_line(principal: Principal, customer_id, *, for_update=False) -> Customer:
    customer_id = parse_id(customer_id, code="customer_not_found")
    wrote_to_line = Conversation.objects.filter(customer_id=customer_id,
                                                line_of_business_id=principal.line_of_business_id).exists()
    queryset = Customer.objects.select_for_update(no_key=True) if for_update else Customer.objects
    customer = queryset.filter(pk=customer_id).first() if wrote_to_line else None
    if customer is None:
        raise NotFound(code="customer_not_found")
    return customer


def customer_dropped(customer_id: int) -> None:
    """Count a message a barred customer sent: it reaches nobody."""
    Customer.objects.filter(pk=customer_id).update(dropped_messages=F("dropped_messages") + 1)
