"""Administration pages of this app (accounts/administration.py): channels belong to no line
of business; bank-wide administrators change them, the others read them."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from branchline.accounts.administration import ScopedAdmin, site

from .models import Channel


@admin.register(Channel, site=site)
class ChannelAdmin(ScopedAdmin):
    line_path = None  # bank-wide
    list_display = ("name", "kind", "is_enabled", "priority", "auto_close_hours", "max_file_mb")
    fieldsets = (
        (None, {"fields": ("kind", "name", "is_enabled", "priority", "auto_close_hours")}),
        # What the composer offers and the API accepts on this channel (docs/protocol.md §16).
        (_("What it carries besides text"), {"fields": (
            "carries_documents", "carries_images", "carries_audio", "carries_video", "carries_location",
            "max_file_mb")}),
    )
    readonly_fields = ("kind",)

    def has_add_permission(self, request):
        return False  # a channel comes with its connector

    def has_delete_permission(self, request, obj=None):
        return False  # conversations name it: it is disabled, never deleted
