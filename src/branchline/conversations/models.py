"""Conversations, their participants and their messages.

The database is the source of truth for real time. A conversation has two dense streams
(docs/adr/0005): the public one (`seq`, what the customer may see) and the staff one
(`staff_seq`, everything). Both numbers are allocated under the conversation's row lock, so
clients resume by number and the gateway fills gaps from here."""
from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _


class ConversationState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    ACTIVE = "active", _("In progress")
    ENDED = "ended", _("Ended")


class EndReason(models.TextChoices):
    AGENT = "agent", _("Ended by the agent")
    CUSTOMER_LEFT = "customer_left", _("The customer left")
    # The post-resolve window had passed when the customer wrote again (docs/protocol.md §11).
    CASE_RESOLVED = "case_resolved", _("Its case was resolved")
    REJECTED = "rejected", _("Rejected by the agent")
    INACTIVE = "inactive", _("No message from the customer for too long")
    BARRED = "barred", _("The customer was barred")


class Rejection(models.TextChoices):
    """Why staff rejected a conversation instead of taking it up (conversation_reject)."""

    DUPLICATE = "duplicate", _("A duplicate")
    SPAM = "spam", _("Spam")
    ABUSE = "abuse", _("Abusive")
    OTHER = "other", _("Another reason")


class Tag(models.Model):
    """A label staff put on conversations (and so on their cases), from the list the line's
    administrators keep; supervisors and administrators may add one to the list inline."""

    line_of_business = models.ForeignKey("accounts.LineOfBusiness", on_delete=models.PROTECT, related_name="tags",
                                         verbose_name=_("line of business"))
    name = models.CharField(_("name"), max_length=50)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=200, blank=True)  # a name, copied: it outlives the user

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [models.UniqueConstraint(Lower("name"), "line_of_business",
                                               name="tag_unique_name")]

    def __str__(self):
        return self.name


class Conversation(models.Model):
    # Foreign keys a composite index below already leads with take no index of their own:
    # every index on this row is written again whenever the row cannot be updated in place.
    customer = models.ForeignKey("contacts.Customer", on_delete=models.PROTECT, related_name="conversations",
                                 db_index=False)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="conversations")
    topic = models.ForeignKey("cases.Topic", on_delete=models.PROTECT, related_name="conversations")
    channel = models.ForeignKey("connectors.Channel", on_delete=models.PROTECT, related_name="conversations")
    # Where it waits (routing.Queue, of its line of business): who may see and take it.
    queue = models.ForeignKey("routing.Queue", on_delete=models.PROTECT, related_name="conversations", db_index=False)
    # Copied from the topic's case type when the conversation starts: queues and staff
    # visibility are per line of business, and this keeps those reads free of joins.
    line_of_business = models.ForeignKey(
        "accounts.LineOfBusiness", on_delete=models.PROTECT, related_name="conversations", db_index=False
    )
    state = models.CharField(max_length=16, choices=ConversationState.choices, default=ConversationState.WAITING)
    # Started by an agent writing to an authenticated customer ("Continue conversation").
    outbound = models.BooleanField(default=False)
    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="conversations",
        db_index=False,
    )
    last_seq = models.PositiveBigIntegerField(default=0)  # the public stream's last number
    last_staff_seq = models.PositiveBigIntegerField(default=0)  # the staff stream's last number
    # Ids of the staff participants following it live (not left): its staff audiences.
    # Written with the participants, under this row's lock, and returned by the statement
    # that takes a message's numbers, so a send needs no query to know who to tell.
    watchers = models.JSONField(default=list)
    # Each side's receipts in public numbers, summarised from its participants' marks:
    # what the other side's delivered / seen ticks show.
    customer_delivered_seq = models.PositiveBigIntegerField(default=0)
    customer_read_seq = models.PositiveBigIntegerField(default=0)
    agent_delivered_seq = models.PositiveBigIntegerField(default=0)
    agent_read_seq = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)
    rejection = models.CharField(max_length=16, choices=Rejection.choices, blank=True)  # with end_reason "rejected"
    # Written by every public message, so it is in no index: PostgreSQL then updates the
    # row in place (a HOT update) instead of adding an entry to each of its indexes, the
    # largest part of a message's database time. An agent's own lists are short and sorted
    # after the (assigned_agent, state) range read.
    last_message_at = models.DateTimeField(default=timezone.now)
    tags = models.ManyToManyField(Tag, related_name="conversations", blank=True)
    # When the customer last wrote (or it started): its channel's auto-close counts from here.
    # Written by the customer's sends in the same UPDATE as the numbers; in no index, as above.
    customer_active_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["line_of_business", "state", "created_at"]),
            models.Index(fields=["assigned_agent", "state"], name="conversation_agent_state"),
            models.Index(fields=["customer", "state"]),
            models.Index(fields=["queue", "state"], name="conversation_queue_state"),
            # The auto-close sweep's walk over what is open, channel by channel: few rows, and
            # none of its columns change with a message (sends stay HOT updates).
            models.Index(fields=["channel"], condition=~models.Q(state="ended"), name="conversation_open_channel"),
        ]


class ParticipantRole(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")


class Participant(models.Model):
    """Someone taking part in a conversation, with their own receipts.

    Marks are numbers of the participant's own stream: `seq` for the customer, `staff_seq`
    for staff. A member of staff stays a participant after leaving (`left_at`), which is
    what lets them find the conversation again among those they handled."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="participants")
    role = models.CharField(max_length=16, choices=ParticipantRole.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="participations")
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)
    delivered_seq = models.PositiveBigIntegerField(default=0)
    read_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], condition=models.Q(user__isnull=False),
                                    name="participant_unique_user"),
            models.UniqueConstraint(fields=["conversation"], condition=models.Q(role="customer"),
                                    name="participant_one_customer"),
        ]
        indexes = [models.Index(fields=["user", "conversation"])]


class Sender(models.TextChoices):
    """Who wrote an item."""

    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Staff")
    SYSTEM = "system", _("System")


class Kind(models.TextChoices):
    """What an item is. A file goes to the customer as FILE; a note may carry one too, for
    staff only. (Bot steps come with their issue.)"""

    TEXT = "text", _("Message")
    NOTE = "note", _("Internal note")
    SYSTEM = "system", _("System line")
    FILE = "file", _("File")
    LOCATION = "location", _("Location")


class FileCategory(models.TextChoices):
    """What a file is, as a channel's capabilities name it (connectors.Channel.carries)."""

    DOCUMENT = "document", _("Document")
    IMAGE = "image", _("Image")
    AUDIO = "audio", _("Audio")
    VIDEO = "video", _("Video")


class Attachment(models.Model):
    """A file someone uploaded to send in a conversation (docs/adr/0021). Stored only once it
    was scanned clean, its type sniffed from its bytes and allowed, an image re-encoded without
    its metadata; under a random name, never the uploader's. The message that sends it names it
    (Message.attachment); until then only its uploader may send it, nobody may open it, and the
    sweep deletes it after ATTACHMENT_UNSENT_HOURS."""

    name = models.CharField(max_length=200)  # the uploader's name for it, its extension the sniffed type's
    content_type = models.CharField(max_length=100)  # sniffed from the bytes
    category = models.CharField(max_length=16, choices=FileCategory.choices)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_as = models.CharField(max_length=100, unique=True)  # its name in the attachments storage
    # Who uploaded it: a customer or a member of staff.
    uploaded_by_customer = models.ForeignKey("contacts.Customer", on_delete=models.PROTECT, null=True, blank=True,
                                             related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    # Staff upload for one conversation (its channel's limits applied), and send it only there.
    for_conversation = models.ForeignKey("Conversation", on_delete=models.CASCADE, null=True, blank=True,
                                         related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(
            condition=models.Q(uploaded_by_customer__isnull=True) ^ models.Q(uploaded_by__isnull=True),
            name="attachment_one_uploader")]
        indexes = [models.Index(fields=["created_at"], name="attachment_created")]  # the unsent sweep's range


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Everyone")
    STAFF = "staff", _("Staff only")


class SystemCode(models.TextChoices):
    AGENT_JOINED = "agent_joined"  # public: "Ben joined the conversation."
    ENDED = "ended"
    CUSTOMER_LEFT = "customer_left"
    TRANSFERRED = "transferred"  # staff: "Anna transferred the conversation to Ben."
    RELEASED = "released"  # staff: "Anna returned the conversation to the queue."
    AGENT_AWAY = "agent_away"  # staff: "Returned to the queue: Anna is away."
    SUPERVISOR_JOINED = "supervisor_joined"  # staff: "Olga (supervisor) joined."
    CUSTOMER_SIGNED_IN = "customer_signed_in"  # public: "Jan Kowalski signed in with the bank."
    CASE_STATUS = "case_status"  # staff: "Anna set the case's status to Resolved."
    TOPIC_CHANGED = "topic_changed"  # staff: "Anna changed the topic to Loans (Loans)."
    OUTBOUND = "outbound"  # staff: "Anna started this conversation with the customer."
    QUEUED = "queued"  # staff: "Anna moved the conversation to the Mortgages queue."
    REJECTED = "rejected"  # staff: "Anna rejected the conversation: Spam."
    AUTO_CLOSED = "auto_closed"  # public: "The conversation was closed after 24 hours without a message."
    BARRED = "barred"  # staff: "Anna barred the customer: <reason>."


class Message(models.Model):
    # As on Conversation: no index of their own where a composite one below leads with the
    # key (conversation: message_unique_staff_seq; customer: message_customer_history), and
    # partial ones for the staff keys most items leave empty. Each index is written per message.
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False)
    # The conversation's customer, copied so that a customer's whole history (across
    # conversations) is one indexed range read.
    customer = models.ForeignKey("contacts.Customer", on_delete=models.PROTECT, related_name="messages",
                                 db_index=False)
    seq = models.PositiveBigIntegerField(null=True, blank=True)  # public stream; None when staff-only
    staff_seq = models.PositiveBigIntegerField()
    sender = models.CharField(max_length=16, choices=Sender.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.PUBLIC)
    # The member of staff who wrote it, or whom a system line is about.
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", db_index=False)
    # A second member of staff a system line names (the receiver of a transfer).
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", db_index=False)
    body = models.TextField(blank=True)
    system_code = models.CharField(max_length=32, choices=SystemCode.choices, blank=True)
    client_message_id = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # A FILE item's file (a note's too). No index of its own: the partial unique one below.
    attachment = models.ForeignKey(Attachment, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="messages", db_index=False)
    # A LOCATION item's place (the body is its label, if any).
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        constraints = [
            # A file is sent once: a second message naming it is refused, however it races.
            models.UniqueConstraint(fields=["attachment"], condition=models.Q(attachment__isnull=False),
                                    name="message_unique_attachment"),
            models.UniqueConstraint(fields=["conversation", "seq"], condition=models.Q(seq__isnull=False),
                                    name="message_unique_seq"),
            models.UniqueConstraint(fields=["conversation", "staff_seq"], name="message_unique_staff_seq"),
            # A client id names one message for good. A customer's send names no conversation
            # (it joins their open one, or starts one), so their ids are unique across all
            # their conversations: a retry after a conversation ended and another began is
            # still a retry. A member of staff names the conversation, so theirs are unique in it.
            models.UniqueConstraint(
                fields=["customer", "client_message_id"],
                condition=models.Q(client_message_id__isnull=False, sender="customer"),
                name="message_unique_customer_client_id",
            ),
            models.UniqueConstraint(
                fields=["conversation", "author", "client_message_id"],
                condition=models.Q(client_message_id__isnull=False, sender="agent"),
                name="message_unique_staff_client_id",
            ),
        ]
        indexes = [
            # A customer's whole history, newest first (keyset on id), per stream.
            models.Index(fields=["customer", "id"], name="message_customer_history"),
            models.Index(fields=["customer", "id"], condition=models.Q(visibility="public"),
                         name="message_customer_public"),
            models.Index(fields=["author"], condition=models.Q(author__isnull=False), name="message_author"),
            # A customer's documents (the panel's "All attachments"): only the items carrying files.
            models.Index(fields=["customer", "id"], condition=models.Q(attachment__isnull=False),
                         name="message_customer_files"),
            models.Index(fields=["subject"], condition=models.Q(subject__isnull=False), name="message_subject"),
        ]

    def line_and_note(self) -> tuple[str, str]:
        """A system line's body: what its line names, and the note staff added to it (a
        transfer's body is all note; a queue's or rejection's name, then the note)."""
        if self.system_code == SystemCode.TRANSFERRED:
            return "", self.body
        if self.system_code in (SystemCode.QUEUED, SystemCode.REJECTED):
            named, _, note = self.body.partition("\n")
            return named, note
        return self.body, ""

    def line_params(self, author_name: str | None = None, subject_name: str | None = None) -> dict:
        """What a system line's words name: the member of staff (`agent`), the receiver of a
        transfer, the customer's name (empty: "The customer", in the reader's words), and the
        line's own text (`body`: a queue's or status's name, the hours...). Clients that render
        lines in their reader's language use them with the same words (docs/protocol.md §18)."""
        return {"agent": author_name or (self.author.display_name if self.author_id else ""),
                "receiver": subject_name or (self.subject.display_name if self.subject_id else ""),
                "customer": self.body if self.system_code == SystemCode.CUSTOMER_SIGNED_IN else "",
                "body": Message.line_and_note(self)[0]}

    def text(self, author_name: str | None = None, subject_name: str | None = None) -> str:
        """What a person reads: the body, or a system line in the reader's language."""
        if self.kind != Kind.SYSTEM:
            return self.body
        line = SYSTEM_LINES.get(self.system_code)
        if not line:
            return self.body
        params = Message.line_params(self, author_name, subject_name)
        return gettext(line) % {**params, "customer": params["customer"] or gettext("The customer")}


# Each system line's words (translated where read: Message.text, and the clients' lines.js).
SYSTEM_LINES = {
    SystemCode.AGENT_JOINED: gettext_noop("%(agent)s joined the conversation."),
    SystemCode.ENDED: gettext_noop("The conversation has ended."),
    SystemCode.CUSTOMER_LEFT: gettext_noop("The customer left; the conversation has ended."),
    SystemCode.TRANSFERRED: gettext_noop("%(agent)s transferred the conversation to %(receiver)s."),
    SystemCode.RELEASED: gettext_noop("%(agent)s returned the conversation to the queue."),
    SystemCode.AGENT_AWAY: gettext_noop("Returned to the queue: %(agent)s is away."),
    SystemCode.SUPERVISOR_JOINED: gettext_noop("%(agent)s (supervisor) joined the conversation."),
    # The body holds the customer's name as the bank gave it at the time.
    SystemCode.CUSTOMER_SIGNED_IN: gettext_noop("%(customer)s signed in with the bank."),
    # The body holds the status's (or topic's) name at the time.
    SystemCode.CASE_STATUS: gettext_noop("%(agent)s set the case's status to %(body)s."),
    SystemCode.TOPIC_CHANGED: gettext_noop("%(agent)s changed the topic to %(body)s."),
    SystemCode.OUTBOUND: gettext_noop("%(agent)s started this conversation with the customer."),
    # The body holds the queue's name at the time.
    SystemCode.QUEUED: gettext_noop("%(agent)s moved the conversation to the %(body)s queue."),
    # The body holds the reason's label, and the agent's comment after it.
    SystemCode.REJECTED: gettext_noop("%(agent)s rejected the conversation: %(body)s"),
    # The body holds the channel's number of hours at the time.
    SystemCode.AUTO_CLOSED: gettext_noop("The conversation was closed after %(body)s hours without a message."),
    # The body holds the reason staff gave.
    SystemCode.BARRED: gettext_noop("%(agent)s barred the customer: %(body)s"),
}
