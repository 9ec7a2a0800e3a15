"""Queues and who serves them (docs/adr/0019).

A queue is where waiting conversations wait to be taken. It belongs to one line of
business; a topic sends its new conversations to its queue, or to its line's default queue.
An agent sees and takes the waiting conversations of the queues they are enabled on
(`QueueMember`), coming from the channels they are granted (`ChannelGrant`); supervisors,
administrators and auditors see every queue of their line. A transfer goes only to someone
granted the conversation's channel."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Queue(models.Model):
    line_of_business = models.ForeignKey("accounts.LineOfBusiness", on_delete=models.PROTECT, related_name="queues",
                                         verbose_name=_("line of business"))
    name = models.CharField(_("name"), max_length=120)
    is_default = models.BooleanField(
        _("default"), default=False,
        help_text=_("Conversations of a topic that names no queue wait here. One per line of business."))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        constraints = [
            models.UniqueConstraint(fields=["line_of_business", "name"], name="queue_unique_name"),
            models.UniqueConstraint(fields=["line_of_business"], condition=models.Q(is_default=True),
                                    name="queue_one_default"),
        ]

    def __str__(self):
        return self.name


class QueueMember(models.Model):
    """A member of staff enabled on a queue: they see its waiting conversations (from the
    channels they are granted) and may take them."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="members", verbose_name=_("queue"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_memberships",
                             verbose_name=_("member of staff"), db_index=False)
    created_at = models.DateTimeField(default=timezone.now)

    def clean(self):
        if self.queue_id and self.user_id and self.user.line_of_business_id != self.queue.line_of_business_id:
            raise ValidationError({"user": _("Choose a member of staff of the queue's line of business.")})

    class Meta:
        verbose_name = _("queue member")
        verbose_name_plural = _("queue members")
        constraints = [models.UniqueConstraint(fields=["user", "queue"], name="queue_member_unique")]

    def __str__(self):
        return f"{self.user} · {self.queue}"


class ChannelGrant(models.Model):
    """A member of staff may handle conversations from this channel."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_grants",
                             verbose_name=_("member of staff"), db_index=False)
    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("channel"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("channel grant")
        verbose_name_plural = _("channel grants")
        constraints = [models.UniqueConstraint(fields=["user", "channel"], name="channel_grant_unique")]

    def __str__(self):
        return f"{self.user} · {self.channel}"
