from django.conf import settings
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

    # What the channel can carry besides text (issue 8): the composer offers only that, and
    # sending anything else is refused (conversations/actions/files.py).
    carries_documents = models.BooleanField(_("carries documents (pdf, doc, docx)"), default=True)
    carries_images = models.BooleanField(_("carries images (jpeg, png)"), default=True)
    carries_audio = models.BooleanField(_("carries audio (mp3, recordings)"), default=True)
    carries_video = models.BooleanField(_("carries video (mp4)"), default=True)
    carries_location = models.BooleanField(_("carries locations"), default=True)
    max_file_mb = models.PositiveSmallIntegerField(
        _("largest file, in MB"), default=20,
        help_text=_("Files larger than this are refused. It cannot exceed the server's own limit."))

    def __str__(self):
        return self.name

    def file_limit_mb(self) -> int:
        """The largest file it takes: its own limit, never above the server's."""
        return min(self.max_file_mb, settings.BRANCHLINE["FILE_MAX_MB"])

    def carries(self) -> list[str]:
        """What it carries besides text: file categories (FileCategory) and "location"."""
        return [name for name, field in CARRIED.items() if getattr(self, field)]


# What a channel may carry besides text, and the field that says whether it does.
CARRIED = {"document": "carries_documents", "image": "carries_images", "audio": "carries_audio",
           "video": "carries_video", "location": "carries_location"}

