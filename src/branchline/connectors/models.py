from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    WEB = "web", _("Web chat")


class Channel(models.Model):
    """Where conversations come from. The web widget now; messaging apps and e-mail later."""

    kind = models.CharField(max_length=16, choices=ChannelKind.choices, unique=True)
    name = models.CharField(_("name"), max_length=120)
    is_enabled = models.BooleanField(default=True)
    # Lower is served first when queues compete (routing issue).
    priority = models.PositiveSmallIntegerField(default=100)
    # A conversation from this channel closes after this long without a message from the
    # customer (conversations_close_inactive); 0: never.
    auto_close_hours = models.PositiveSmallIntegerField(
        _("close after hours without a customer message"), default=24,
        help_text=_("A conversation with no message from the customer for this many hours is closed. 0: never."))

    def __str__(self):
        return self.name

