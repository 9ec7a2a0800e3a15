"""Tags on conversations (docs/protocol.md §15): the line's list, and putting one on a
conversation or taking it off. Each checks permission, writes in one transaction, is audited
and publishes after commit."""
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from branchline.accounts.events import AdministrationChanged
from branchline.accounts.permissions import LEADING_ROLES, Action, require_role
from branchline.accounts.principals import Principal
from branchline.core.errors import InvalidInput, NotFound
from branchline.events import Actor, publish

from ..events import ConversationTagged
from ..models import Tag
from ..selectors import access_conversation, parse_id
from . import streams

NAME_MAX = 50


def _clean_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(_("Name the tag."), code="tag_name_required")
    if "\x00" in name:
        raise InvalidInput(_("The name contains a character that cannot be stored."), code="tag_name_invalid")
    name = " ".join(name.split())
    if len(name) > NAME_MAX:
        raise InvalidInput(_("A tag's name is at most %(max)s characters.") % {"max": NAME_MAX},
                           code="tag_name_too_long")
    return name


def tag_create(*, principal: Principal, name) -> Tag:
    """Add a tag to the line's list (supervisors and administrators, from the console); the
    one of that name (whatever its case) if it exists."""
    require_role(principal, LEADING_ROLES, _("Only supervisors and administrators add tags to the list."))
    name = _clean_name(name)
    line_id = principal.line_of_business_id
    if line_id is None:
        raise NotFound(code="tag_not_found")
    found = Tag.objects.filter(line_of_business_id=line_id).filter(name__iexact=name).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            tag = Tag.objects.create(line_of_business_id=line_id, name=name, created_by=principal.display_name)
            # Audited as the administration's own additions are (accounts/actions/administration.py).
            publish(AdministrationChanged(actor=Actor.of(principal), model=tag._meta.label_lower, object_id=tag.id,
                                          object_repr=tag.name, change="added", fields=("name",),
                                          values={"name": tag.name}))
            return tag
    except IntegrityError:  # made by someone else a moment ago
        return Tag.objects.get(line_of_business_id=line_id, name__iexact=name)


def conversation_tag_set(*, principal: Principal, conversation_id, tag_id, on: bool = True):
    """Put a tag of the conversation's line on it (`on`), or take it off: those who handle or
    follow it (after its end too) and supervisors. Doing it twice changes nothing."""
    with transaction.atomic():
        conversation = access_conversation(principal, conversation_id, Action.TAG, for_update=True, related=False)
        tag = Tag.objects.filter(pk=parse_id(tag_id, code="tag_not_found"),
                                 line_of_business_id=conversation.line_of_business_id).first()
        if tag is None:
            raise NotFound(_("No tag of this conversation's line of business has that id."), code="tag_not_found")
        present = conversation.tags.filter(pk=tag.id).exists()
        if present == on:
            return conversation
        (conversation.tags.add if on else conversation.tags.remove)(tag)
        publish(ConversationTagged(actor=Actor.of(principal), tag_id=tag.id, tag=tag.name, added=on,
                                   **streams.routing(conversation)))
    return conversation
