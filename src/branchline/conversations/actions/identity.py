"""A guest signs in with the bank mid-chat (step-up, docs/adr/0013): their conversations
become the signed-in customer's, with nothing written before lost or written twice."""
from django.db import transaction
from django.db.models import Subquery

from branchline.accounts.actions import customer_sessions_end_all
from branchline.accounts.actions.sso import sso_session_redeem
from branchline.cases.models import Case
from branchline.contacts.models import Customer
from branchline.events import Actor, publish

from ..events import CustomerIdentified
from ..models import Conversation, ConversationState, EndReason, Message, Sender, SystemCode
from . import streams
from .lines import conversation_close, system_line


def customer_sso_redeem(*, code, binding) -> tuple[Customer, str]:
    """Exchange the sign-in's hand-over code for the customer's token. If a guest started
    the sign-in from a chat, in the same transaction: their conversations, messages and
    cases move to the signed-in customer, each open conversation gets a line saying so
    (the agent sees who it is from then on), and the guest's sign-ins end (their sockets
    close; the widget reconnects with the new token and resumes the same conversation).

    If the customer already had a conversation open (on another device), both stay open:
    the newest, the guest's, is the current one their messages join; the other stays with
    its agent, who closes it."""
    with transaction.atomic():
        customer, token, guest_id = sso_session_redeem(code=code, binding=binding)
        if guest_id is not None and guest_id != customer.id:
            _conversations_to(guest_id, customer)
            customer_sessions_end_all(customer_id=guest_id)
    return customer, token


def _conversations_to(guest_id: int, customer: Customer) -> None:
    conversations = list(Conversation.objects.select_for_update().filter(customer_id=guest_id).order_by("id"))
    if not conversations:
        return
    ids = [conversation.id for conversation in conversations]
    # A client id names one message of a customer for good (messages.py). One the guest used
    # that the customer used too is dropped from the guest's message: the guest's token ends
    # here, so nobody can retry with it any more.
    taken = Message.objects.filter(customer_id=customer.id, sender=Sender.CUSTOMER,
                                   client_message_id__isnull=False).values("client_message_id")
    Message.objects.filter(conversation_id__in=ids, sender=Sender.CUSTOMER,
                           client_message_id__in=Subquery(taken)).update(client_message_id=None)
    Conversation.objects.filter(pk__in=ids).update(customer=customer)
    Message.objects.filter(conversation_id__in=ids).update(customer=customer)
    Case.objects.filter(customer_id=guest_id).update(customer=customer)
    actor = Actor("customer", customer.id, customer.display_name)
    for conversation in conversations:
        if conversation.state == ConversationState.ENDED:
            continue
        if customer.barred_at is not None:  # signed in as a barred customer: what they write reaches nobody
            conversation.refresh_from_db()
            conversation_close(conversation, EndReason.BARRED, SystemCode.ENDED, actor)
            continue
        system_line(conversation.id, SystemCode.CUSTOMER_SIGNED_IN, actor=actor, body=customer.display_name)
        publish(CustomerIdentified(actor=actor, guest_id=guest_id,
                                   **streams.routing(Conversation.objects.get(pk=conversation.id))))
