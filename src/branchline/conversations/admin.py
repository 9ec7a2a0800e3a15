"""Administration pages of this app (accounts/administration.py): the tags staff put on
conversations, within the administrator's lines of business."""
from django.contrib import admin

from branchline.accounts.administration import ScopedAdmin, site

from .models import Tag


@admin.register(Tag, site=site)
class TagAdmin(ScopedAdmin):
    """A tag in use can be deleted: it comes off its conversations."""

    line_path = "line_of_business"
    list_display = ("name", "line_of_business", "created_by", "created_at")
    list_filter = (("line_of_business", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name",)
    fields = ("name", "line_of_business")
