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

    def __str__(self):
        return self.name

