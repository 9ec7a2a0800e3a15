"""Conversations and their messages.

The database is the source of truth for real time: every message carries a
per-conversation sequence number (`seq`), allocated under the conversation's row lock, so
clients resume by number and the gateway fills gaps from here."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ConversationState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    ACTIVE = "active", _("In progress")
    ENDED = "ended", _("Ended")


class EndReason(models.TextChoices):
    AGENT = "agent", _("Ended by the agent")
    CUSTOMER_LEFT = "customer_left", _("The customer left")


class Conversation(models.Model):
    customer = models.ForeignKey("contacts.Customer", on_delete=models.PROTECT, related_name="conversations")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="conversations")
    topic = models.ForeignKey("cases.Topic", on_delete=models.PROTECT, related_name="conversations")
    channel = models.ForeignKey("connectors.Channel", on_delete=models.PROTECT, related_name="conversations")
    # Copied from the topic's case type when the conversation starts: queues and staff
    # visibility are per line of business, and this keeps those reads free of joins.
    line_of_business = models.ForeignKey(
        "accounts.LineOfBusiness", on_delete=models.PROTECT, related_name="conversations"
    )
    state = models.CharField(max_length=16, choices=ConversationState.choices, default=ConversationState.WAITING)
    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="conversations"
    )
    last_seq = models.PositiveBigIntegerField(default=0)
    # Receipts: the highest seq each side's devices have received / shown to the person.
    customer_delivered_seq = models.PositiveBigIntegerField(default=0)
    customer_read_seq = models.PositiveBigIntegerField(default=0)
    agent_delivered_seq = models.PositiveBigIntegerField(default=0)
    agent_read_seq = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)
    last_message_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["line_of_business", "state", "created_at"]),
            models.Index(fields=["assigned_agent", "state", "last_message_at"]),
            models.Index(fields=["customer", "state"]),
        ]

    @property
    def is_open(self) -> bool:
        return self.state != ConversationState.ENDED


class Sender(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    SYSTEM = "system", _("System")


class SystemCode(models.TextChoices):
    AGENT_JOINED = "agent_joined"
    ENDED = "ended"
    CUSTOMER_LEFT = "customer_left"


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    # The conversation's customer, copied so that a customer's whole history (across
    # conversations) is one indexed range read.
    customer = models.ForeignKey("contacts.Customer", on_delete=models.PROTECT, related_name="messages")
    seq = models.PositiveBigIntegerField()
    sender = models.CharField(max_length=16, choices=Sender.choices)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    body = models.TextField(blank=True)
    system_code = models.CharField(max_length=32, choices=SystemCode.choices, blank=True)
    client_message_id = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_unique_seq"),
            # Client ids are chosen by each side's devices, so they are unique per side:
            # a customer's id can never collide with (or replay) an agent's.
            models.UniqueConstraint(
                fields=["conversation", "sender", "client_message_id"],
                condition=models.Q(client_message_id__isnull=False),
                name="message_unique_client_id",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "id"]),
            models.Index(fields=["customer", "client_message_id"]),
        ]

    def text(self, agent_name: str | None = None) -> str:
        """What a person reads: the body, or a system line in the reader's language."""
        if self.sender != Sender.SYSTEM:
            return self.body
        agent = agent_name or (self.agent.display_name if self.agent_id else "")
        return {
            SystemCode.AGENT_JOINED: gettext("%(agent)s joined the conversation.") % {"agent": agent},
            SystemCode.ENDED: gettext("The conversation has ended."),
            SystemCode.CUSTOMER_LEFT: gettext("The customer left; the conversation has ended."),
        }.get(self.system_code, self.body)
