"""Administration pages of this app (accounts/administration.py): queues, who is enabled on
them, and who is granted which channel, each within the administrator's lines of business.
A change reaches open consoles at the next sign-in re-check (docs/protocol.md §12)."""
from django.contrib import admin

from branchline.accounts.administration import ScopedAdmin, site

from .models import ChannelGrant, Queue, QueueMember


@admin.register(Queue, site=site)
class QueueAdmin(ScopedAdmin):
    """A queue in use cannot be deleted (its conversations keep it)."""

    line_path = "line_of_business"
    list_display = ("name", "line_of_business", "is_default")
    list_filter = ("is_default", ("line_of_business", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name",)
    fields = ("name", "line_of_business", "is_default")

    def get_readonly_fields(self, request, obj=None):
        # Its conversations are of its line: moving it would move them to another line.
        return ("line_of_business",) if obj is not None else ()


@admin.register(QueueMember, site=site)
class QueueMemberAdmin(ScopedAdmin):
    line_path = "queue__line_of_business"
    line_fields = ("queue", "user")
    list_display = ("user", "queue")
    list_filter = (("queue", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("user", "queue")
    search_fields = ("user__username", "user__first_name", "user__last_name", "queue__name")
    fields = ("queue", "user")


@admin.register(ChannelGrant, site=site)
class ChannelGrantAdmin(ScopedAdmin):
    line_path = "user__line_of_business"
    line_fields = ("user",)
    list_display = ("user", "channel")
    list_filter = ("channel",)
    list_select_related = ("user", "channel")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    fields = ("user", "channel")
