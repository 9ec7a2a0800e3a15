"""Quick answers (and, with their issues, the knowledge base and bots).

A quick answer is a reply the line's administrators wrote once, by category, that agents
insert into the composer to edit or send as it is (docs/protocol.md §14)."""
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class QuickAnswer(models.Model):
    line_of_business = models.ForeignKey("accounts.LineOfBusiness", on_delete=models.PROTECT,
                                         related_name="quick_answers", verbose_name=_("line of business"))
    category = models.CharField(_("category"), max_length=80)
    title = models.CharField(_("title"), max_length=120, help_text=_("What agents search and see in the list"))
    body = models.TextField(_("text"), max_length=4000, help_text=_("What the customer reads"))
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["category", "position", "title"]
        verbose_name = _("quick answer")
        verbose_name_plural = _("quick answers")
        constraints = [models.UniqueConstraint(fields=["line_of_business", "category", "title"],
                                               name="quick_answer_unique_title")]

    def __str__(self):
        return f"{self.category} · {self.title}"
