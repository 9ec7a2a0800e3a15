"""Administration pages of this app (accounts/administration.py): quick answers, within the
administrator's lines of business."""
from django.contrib import admin

from branchline.accounts.administration import ScopedAdmin, site

from .models import QuickAnswer


@admin.register(QuickAnswer, site=site)
class QuickAnswerAdmin(ScopedAdmin):
    line_path = "line_of_business"
    list_display = ("title", "category", "line_of_business", "is_active", "position")
    list_filter = ("is_active", "category", ("line_of_business", admin.RelatedOnlyFieldListFilter))
    search_fields = ("title", "body", "category")
    fields = ("line_of_business", "category", "title", "body", "is_active", "position")
