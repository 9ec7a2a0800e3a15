"""Recognizing a customer (seed 004, docs/protocol.md §17): staff relate the profile a
conversation comes from to a contact of the bank's customer base, found by searching, or to one
they record for it there and then. The profile is Recognized from then on. Each checks
permission, writes in one transaction, is audited and publishes after commit."""
import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branchline.accounts.permissions import Action
from branchline.accounts.principals import Principal
from branchline.contacts.models import Contact, Customer, CustomerContact
from branchline.core.errors import InvalidInput, NotFound
from branchline.events import Actor, publish

from ..events import CustomerRecognized
from ..models import Conversation
from ..selectors import access_conversation, contacts_visible_to, parse_id
from . import streams

PHONE = re.compile(r"\+?[0-9][0-9 ()-]{5,30}")  # fullmatch; 6+ digits with the usual separators
LIMITS = {"first_name": 100, "last_name": 100, "email": 254, "phone": 32, "company": 200, "address": 300}


def customer_contact_relate(*, principal: Principal, conversation_id, contact_id) -> Conversation:
    """Relate the conversation's customer to a contact of its line of business: those who
    handle or follow it (after its end too) and supervisors. Relating it to the contact it
    already has changes nothing; another one replaces it (and is audited)."""
    with transaction.atomic():
        conversation = access_conversation(principal, conversation_id, Action.RELATE, for_update=True, related=False)
        contact = (contacts_visible_to(principal).filter(line_of_business_id=conversation.line_of_business_id,
                                                         pk=parse_id(contact_id, code="contact_not_found")).first())
        if contact is None:
            raise NotFound(_("No contact of this conversation's line of business has that id."),
                           code="contact_not_found")
        return _related(principal, conversation, contact, created=False)


def contact_create(*, principal: Principal, conversation_id, first_name, last_name, email="", phone="",
                   company="", address="") -> Conversation:
    """Record a contact in the conversation's line of business from what staff know (first and
    last name, an e-mail or a phone, optionally company and address) and relate the
    conversation's customer to it; same permission as relating."""
    fields = _clean_contact(first_name=first_name, last_name=last_name, email=email, phone=phone,
                            company=company, address=address)
    with transaction.atomic():
        conversation = access_conversation(principal, conversation_id, Action.RELATE, for_update=True, related=False)
        contact = Contact.objects.create(line_of_business_id=conversation.line_of_business_id,
                                         created_by=principal.display_name, **fields)
        return _related(principal, conversation, contact, created=True)


def _related(principal: Principal, conversation: Conversation, contact: Contact, *, created: bool) -> Conversation:
    """The customer related to `contact` for the conversation's line (one contact per line)."""
    Customer.objects.select_for_update(no_key=True).filter(pk=conversation.customer_id).first()  # orders relates
    link, made = CustomerContact.objects.get_or_create(
        customer_id=conversation.customer_id, line_of_business_id=conversation.line_of_business_id,
        defaults={"contact": contact, "related_by": principal.display_name})
    if not made and link.contact_id == contact.id:
        return conversation
    if not made:
        CustomerContact.objects.filter(pk=link.pk).update(contact=contact, related_by=principal.display_name,
                                                          related_at=timezone.now())
    publish(CustomerRecognized(actor=Actor.of(principal), contact_id=contact.id, created=created,
                               **streams.routing(conversation)))
    return conversation


def _clean_contact(**given) -> dict:
    fields = {}
    for name, value in given.items():
        label = str(Contact._meta.get_field(name).verbose_name).capitalize()  # in the reader's words
        if value is None:
            value = ""
        if not isinstance(value, str) or "\x00" in value:
            raise InvalidInput(_("%(field)s must be text.") % {"field": label}, code="contact_invalid")
        value = " ".join(value.split())
        if len(value) > LIMITS[name]:
            raise InvalidInput(_("%(field)s is longer than %(max)s characters.")
                               % {"field": label, "max": LIMITS[name]}, code="contact_invalid")
        fields[name] = value
    if not fields["first_name"] or not fields["last_name"]:
        raise InvalidInput(_("A contact needs a first and a last name."), code="contact_name_required")
    if not fields["email"] and not fields["phone"]:
        raise InvalidInput(_("A contact needs an e-mail address or a phone number."), code="contact_reach_required")
    if fields["email"]:
        try:
            validate_email(fields["email"])
        except ValidationError:
            raise InvalidInput(_("That is not an e-mail address."), code="contact_email_invalid") from None
    if fields["phone"] and not PHONE.fullmatch(fields["phone"]):
        raise InvalidInput(_("That is not a phone number (digits, with + ( ) - or spaces)."),
                           code="contact_phone_invalid")
    return fields
