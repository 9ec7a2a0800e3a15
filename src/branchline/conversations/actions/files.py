"""Files in conversations (docs/adr/0021): uploading one to send, opening one, and the sweep
of uploads never sent. A file is kept only after the scanner found it clean, its bytes were
found to be an allowed type its channel carries, and an image was re-encoded without its
metadata; anything refused is recorded in the audit trail and nothing of it is kept."""
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branchline.accounts.permissions import Action
from branchline.accounts.principals import Principal
from branchline.connectors.actions import channel_web
from branchline.connectors.models import Channel
from branchline.contacts.models import Customer
from branchline.core import ratelimit, scanner
from branchline.core.errors import Conflict, InvalidInput, NotFound, TooLarge
from branchline.events import Actor, publish

from ..events import FileOpened, FileRefused
from ..files import display_name, sniff, sniffed_type, without_metadata
from ..models import Attachment, FileCategory, Kind, Message, Visibility
from ..selectors import access_conversation, conversations_visible_to, customer_open_conversation, parse_id
from .contacts import barred_refusal

SWEEP_WINDOW = timedelta(days=30)


def attachments_storage():
    return storages["attachments"]


CARRIED_NAMES = {**{c.value: c.label for c in FileCategory}, "location": Kind.LOCATION.label}


def check_carries(channel: Channel, what: str) -> None:
    """Refuse what the channel cannot carry (a category of file, or "location")."""
    if what not in channel.carries():
        raise InvalidInput(_("%(channel)s cannot carry this (%(what)s).")
                           % {"channel": channel.name, "what": str(CARRIED_NAMES[what]).lower()},
                           code="channel_cannot_carry")


def attachment_upload(*, principal: Principal, upload, conversation_id=None) -> Attachment:
    """Keep a file `principal` is about to send: a customer's for their conversation (on the
    web channel), staff's for the conversation they may write in. Returns the stored
    Attachment, which a message then sends (customer_message_send, staff_message_send).
    Refuses, keeping nothing: a file too large or empty, one the scanner finds malware in,
    one whose bytes are not an allowed type, or one the channel cannot carry; and answers
    ScannerUnavailable when the scanner cannot be asked."""
    conversation = None
    if principal.is_staff:
        conversation = access_conversation(principal, parse_id(conversation_id), Action.NOTE)
        channel = conversation.channel
    elif principal.is_customer:
        channel = channel_web()
        _check_may_upload(principal)
    else:
        raise NotFound()
    limits = settings.BRANCHLINE
    per_minute = limits["FILE_UPLOADS_PER_MINUTE"]
    ratelimit.hit(f"upload:{principal.kind}:{principal.id}", rate=per_minute / 60, burst=per_minute,
                  message=_("Too many files at once. Wait a minute and try again."))
    if upload.size > channel.file_limit_mb() * 1024 * 1024:
        raise TooLarge(_("The file is larger than %(mb)s MB.") % {"mb": channel.file_limit_mb()},
                       code="file_too_large")
    if not upload.size:
        raise InvalidInput(_("The file is empty."), code="file_empty")
    data = upload.read()
    facts = {"conversation_id": conversation.id if conversation else None, "file_name": (upload.name or "")[:200],
             "data": data}
    found = scanner.scan(data)
    if found:
        _refused(principal, reason="infected", found=found, **facts)
        raise InvalidInput(_("The file carries malware (%(found)s) and was not accepted.") % {"found": found},
                           code="file_infected")
    try:
        kind = sniff(data)
    except InvalidInput:
        _refused(principal, reason="type", found=sniffed_type(data), **facts)
        raise
    if principal.is_customer:  # staff's: checked at send, as a note may carry any allowed file
        check_carries(channel, kind.category)
    data = without_metadata(data, kind)
    return _stored(principal, data, kind, upload.name, conversation)


def _check_may_upload(principal: Principal) -> None:
    """A barred customer uploads nothing; a guest uploads into their open conversation only
    (nobody unknown fills the disk); nobody keeps more than ATTACHMENTS_UNSENT_MAX files
    waiting to be sent."""
    if Customer.objects.filter(pk=principal.id, barred_at__isnull=False).exists():
        raise barred_refusal()
    if not principal.authenticated_customer and customer_open_conversation(principal.id) is None:
        raise Conflict(_("Write your question first; then you can attach files."), code="conversation_required")
    waiting = Attachment.objects.filter(uploaded_by_customer_id=principal.id, messages__isnull=True).count()
    if waiting >= settings.BRANCHLINE["ATTACHMENTS_UNSENT_MAX"]:
        raise Conflict(_("Send or remove the files you attached before adding more."), code="too_many_unsent_files")


def _refused(principal: Principal, *, data: bytes, **fields) -> None:
    """Record the refusal (what it was: its size and digest), in a transaction of its own: the
    caller's error rolls nothing back."""
    with transaction.atomic():
        publish(FileRefused(actor=Actor.of(principal), size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            **fields))


def _stored(principal: Principal, data: bytes, kind, name: str, conversation) -> Attachment:
    storage = attachments_storage()
    now = timezone.now()
    stored_as = storage.save(f"{now:%Y/%m}/{secrets.token_hex(16)}{kind.extension}", ContentFile(data))
    uploader = ({"uploaded_by_customer_id": principal.id} if principal.is_customer
                else {"uploaded_by_id": principal.id, "for_conversation_id": conversation.id})
    try:
        return Attachment.objects.create(
            name=display_name(name, kind), content_type=kind.content_type, category=kind.category, size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), stored_as=stored_as, created_at=now, **uploader)
    except BaseException:
        storage.delete(stored_as)  # not half-written: no file without its row
        raise


def attachment_to_send(principal: Principal, attachment_id, conversation_id: int | None = None) -> Attachment:
    """The file `principal` uploaded and has not sent yet, to send now (the message's unique
    attachment refuses a second send however it races); staff's only in the conversation they
    uploaded it for."""
    attachment = Attachment.objects.filter(pk=parse_id(attachment_id, code="file_not_found")).first()
    mine = attachment is not None and (
        attachment.uploaded_by_customer_id == principal.id if principal.is_customer
        else attachment.uploaded_by_id == principal.id and attachment.for_conversation_id == conversation_id)
    if not mine:
        raise NotFound(_("That file does not exist. Upload it first."), code="file_not_found")
    if Message.objects.filter(attachment=attachment).exists():
        raise InvalidInput(_("That file was sent already; upload it again to send it again."),
                           code="file_already_sent")
    return attachment


def attachment_open(*, principal: Principal, attachment_id) -> tuple[Attachment, Message]:
    """The file and the message that sent it, for `principal` to download: a customer only
    from their own conversation's public items, staff from a conversation they may see
    (recorded in the audit trail each time). 404 otherwise: a file is never confirmed to one
    who may not see it, nor before it is sent."""
    message = (Message.objects.select_related("attachment")
               .filter(attachment_id=parse_id(attachment_id, code="file_not_found")).first())
    if message is None:
        raise NotFound(code="file_not_found")
    if principal.is_customer:
        if message.customer_id != principal.id or message.visibility != Visibility.PUBLIC:
            raise NotFound(code="file_not_found")
        return message.attachment, message
    if not principal.is_staff:
        raise NotFound(code="file_not_found")
    # As the customer's history (the interaction panel's documents): whoever may see one of the
    # customer's conversations opens the files of all of them.
    if not conversations_visible_to(principal).filter(customer_id=message.customer_id).exists():
        raise NotFound(code="file_not_found")
    with transaction.atomic():
        publish(FileOpened(actor=Actor.of(principal), customer_id=message.customer_id,
                           conversation_id=message.conversation_id, attachment_id=message.attachment_id,
                           file_name=message.attachment.name))
    return message.attachment, message


def attachments_unsent_delete(*, now=None) -> int:
    """Delete files uploaded but never sent within ATTACHMENT_UNSENT_HOURS (the sweep of each
    process; idempotent: a file another process deleted first is skipped). Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.BRANCHLINE["ATTACHMENT_UNSENT_HOURS"])
    storage, deleted = attachments_storage(), 0
    # Within a month before the cutoff: the sweep runs every minute, so older unsent files exist
    # only after a month with no server up; reading every sent file's row each minute would not do.
    window = Attachment.objects.filter(created_at__lt=cutoff, created_at__gte=cutoff - SWEEP_WINDOW,
                                       messages__isnull=True)
    for attachment_id, stored_as in window.values_list("id", "stored_as")[:500]:
        try:
            with transaction.atomic():
                # Sent meanwhile, or deleted by another process: the conditional delete says.
                gone, _ = Attachment.objects.filter(pk=attachment_id, messages__isnull=True).delete()
        except IntegrityError:  # sent at this very moment: its message holds it
            continue
        if gone:
            storage.delete(stored_as)
            deleted += 1
    return deleted
