"""Administration pages of this app (accounts/administration.py): staff and lines of business."""
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db.models import Exists, OuterRef
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from branchline.core.errors import Forbidden
from branchline.core.http import client_address

from .actions.administration import administration_save, second_factor_reset, staff_refusal
from .administration import ScopedAdmin, acting, site
from .models import LineOfBusiness, Passkey, Role, User

OWN_READ_ONLY = ("role", "line_of_business", "is_active")


class StaffPasswordForm(AdminPasswordChangeForm):
    """Django's password form, saved through the administration's action (scoped, audited)."""

    def save(self, commit=True):
        user = self.set_password_and_save(self.user, commit=False)
        actor, address = acting.get()
        line = user.line_of_business_id
        administration_save(actor=actor, address=address, obj=user, adding=False, fields=["password"],
                            line_before=line, line_after=line)
        return user


@admin.register(User, site=site)
class StaffAdmin(ScopedAdmin, DjangoUserAdmin):
    line_path = "line_of_business"
    change_password_form = StaffPasswordForm
    list_display = ("username", "full_name", "role", "line_of_business", "is_active", "second_factor", "last_login")
    # Lines offered as filters: those of the staff listed (never another line's name).
    list_filter = ("role", "is_active", ("line_of_business", admin.RelatedOnlyFieldListFilter))
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name", "email")}),
        (_("Work"), {"fields": ("role", "line_of_business", "max_concurrent_chats", "is_active")}),
        (_("Sign-ins"), {"fields": ("second_factor", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "first_name", "last_name", "email", "role", "line_of_business",
                           "usable_password", "password1", "password2")}),
    )
    readonly_fields = ("second_factor", "last_login", "date_joined")
    actions = ["reset_second_factor"]

    def get_queryset(self, request):
        staff = super().get_queryset(request).select_related("line_of_business").annotate(
            has_passkey=Exists(Passkey.objects.filter(user=OuterRef("pk"))),
            has_authenticator=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
        # A line's administrator never sees a bank-wide administrator's account.
        return staff if request.user.is_superuser else staff.filter(is_superuser=False)

    def get_readonly_fields(self, request, obj=None):
        own = obj is not None and obj.pk == request.user.pk
        return self.readonly_fields + (OWN_READ_ONLY if own else ())

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if self._lines(request) is not None:
            if "line_of_business" in form.base_fields:
                form.base_fields["line_of_business"].required = True  # within their line, never none
            if "role" in form.base_fields:  # administrators are made by bank-wide administrators
                form.base_fields["role"].choices = [(v, label) for v, label in Role.choices if v != Role.ADMIN]
        return form

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or staff_refusal(request.user, obj) is None)

    def has_delete_permission(self, request, obj=None):
        return False  # staff are deactivated, never deleted: the audit trail and conversations name them

    @admin.display(description=_("name"))
    def full_name(self, user):
        return user.get_full_name()

    @admin.display(description=_("second factor"))
    def second_factor(self, user):
        kinds = [label for flag, label in ((getattr(user, "has_passkey", False), _("passkey")),
                                           (getattr(user, "has_authenticator", False), _("authenticator app")))
                 if flag]
        return ", ".join(str(k) for k in kinds) or _("not set up")

    @admin.action(description=_("Reset the second factor (lost passkey or phone)"))
    def reset_second_factor(self, request, queryset):
        if request.POST.get("confirm") != "yes":  # a confirmation first, as Django's delete has
            return TemplateResponse(request, "admin/accounts/user/reset_second_factor.html",
                                    {**self.admin_site.each_context(request), "opts": self.model._meta,
                                     "queryset": queryset, "title": _("Reset the second factor?")})
        for user in queryset:
            try:
                removed = second_factor_reset(actor=request.user, address=client_address(request), user=user)
            except Forbidden as refused:
                self.message_user(request, f"{user.username}: {refused.message}", messages.ERROR)
                continue
            self.message_user(request, _("%(user)s sets up a second factor again at their next sign-in "
                                         "(removed: %(removed)s).") % {
                "user": user.username, "removed": ", ".join(removed) or _("nothing")}, messages.SUCCESS)


@admin.register(LineOfBusiness, site=site)
class LineOfBusinessAdmin(ScopedAdmin):
    line_path = "id"
    line_fields = ()
    list_display = ("name",)
    search_fields = ("name",)

    def has_add_permission(self, request):
        return site.has_permission(request) and self._lines(request) is None  # bank-wide administrators

    def has_delete_permission(self, request, obj=None):
        return False  # a line holds conversations, cases and staff: it is renamed, never deleted
