"""Administration pages of this app (accounts/administration.py): case types, topics (and the
queue each sends its conversations to) and case statuses, each within the administrator's
lines of business."""
from django.contrib import admin

from branchline.accounts.administration import ScopedAdmin, site

from .models import CaseStatus, CaseType, Topic


@admin.register(CaseType, site=site)
class CaseTypeAdmin(ScopedAdmin):
    line_path = "line_of_business"
    list_display = ("name", "line_of_business")
    list_filter = (("line_of_business", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name",)
    fields = ("name", "line_of_business")


@admin.register(Topic, site=site)
class TopicAdmin(ScopedAdmin):
    line_path = "case_type__line_of_business"
    line_fields = ("case_type", "queue")
    list_display = ("name", "case_type", "queue", "is_active", "position")
    list_filter = ("is_active", ("case_type", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("case_type", "queue")
    search_fields = ("name",)
    fields = ("name", "case_type", "queue", "is_active", "position")


@admin.register(CaseStatus, site=site)
class CaseStatusAdmin(ScopedAdmin):
    """A line's statuses, in their order: each open or resolved, one where new cases start.
    A status in use cannot be deleted (its cases keep it)."""

    line_path = "line_of_business"
    list_display = ("name", "line_of_business", "is_resolved", "is_initial", "position")
    list_filter = ("is_resolved", ("line_of_business", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name",)
    fields = ("name", "line_of_business", "is_resolved", "is_initial", "position")

    def get_readonly_fields(self, request, obj=None):
        # Its cases are of its line: moving it would move their meaning to another line.
        return ("line_of_business",) if obj is not None else ()
