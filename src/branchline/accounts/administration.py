"""The administration (/admin/): Django's admin, scoped to the administrator's lines of
business (docs/adr/0016).

Only administrators get in, signed in through the console's own sign-in (password and
second factor; the admin's login page sends them there). Every model page lists and opens
only what belongs to their lines (another line's object answers 404), offers only their
lines in its choices, and saves and deletes through accounts/actions/administration.py,
which checks the scope again and audits the change in the audit trail (Django's own
LogEntry is not written: the trail is the one record)."""
from contextlib import contextmanager
from contextvars import ContextVar
from functools import reduce, update_wrapper
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from branchline.core.errors import Forbidden
from branchline.core.http import client_address

from .actions import staff_sign_out
from .actions.administration import administered_lines, administration_delete, administration_save, in_scope
from .models import Role

# Who is acting in the administration view now running: forms that save outside a
# ModelAdmin hook (the password form) find the administrator here.
acting: ContextVar = ContextVar("branchline_administrator", default=None)


class AdministrationSite(admin.AdminSite):
    site_header = _("Branchline administration")
    site_title = _("Branchline administration")
    index_title = _("Your lines of business")
    site_url = "/console/"

    def has_permission(self, request):
        user = request.user
        return user.is_active and user.is_authenticated and user.role == Role.ADMIN

    def login(self, request, extra_context=None):
        """The console's sign-in (password, then the second factor), then back here; someone
        signed in who is not an administrator is told so."""
        if request.user.is_authenticated:
            raise PermissionDenied(_("Only administrators use the administration."))
        return redirect(f"{reverse('console-login')}?{urlencode({'next': request.GET.get('next', '/admin/')})}")

    def logout(self, request, extra_context=None):
        if request.method == "POST":
            staff_sign_out(request)  # as the console's sign-out: the person's sockets close too
        return redirect("console-login")

    def password_change(self, request, extra_context=None):
        """One's own password: the same form as for anyone else, audited the same way."""
        return redirect("admin:auth_user_password_change", request.user.pk)  # Django's UserAdmin names it so

    def admin_view(self, view, cacheable=False):
        checked = super().admin_view(view, cacheable)

        def with_actor(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                # Signed in, not an administrator: told so here, not sent round the sign-in page.
                raise PermissionDenied(_("Only administrators use the administration."))
            token = acting.set((request.user, client_address(request)))
            try:
                return checked(request, *args, **kwargs)
            finally:
                acting.reset(token)

        return update_wrapper(with_actor, checked)


site = AdministrationSite(name="admin")


def _follow(obj, path: str | None):
    """The line of business id at the end of `path` ("line_of_business", "case_type__line_of_business"),
    "id" for a line itself, None when nothing (bank-wide)."""
    if path is None:
        return None
    if path == "id":
        return obj.pk
    *hops, last = path.split("__")
    target = reduce(lambda o, hop: getattr(o, hop) if o is not None else None, hops, obj)
    return getattr(target, f"{last}_id", None) if target is not None else None


@contextmanager
def _refusals_as_403():
    """The action's refusal (the page let through what the scope does not) as Django's 403."""
    try:
        yield
    except Forbidden as refused:
        raise PermissionDenied(refused.message) from None


PASSWORD_FORM_FIELDS = frozenset({"password1", "password2", "usable_password", "set_usable_password"})


def _model_fields(obj, names) -> list[str]:
    """The model's fields among a form's (a password typed in the form is the `password` field)."""
    stored = {f.name for f in obj._meta.concrete_fields}
    fields = [name for name in names if name in stored]
    return fields + ["password"] if PASSWORD_FORM_FIELDS & set(names) else fields


class ScopedAdmin(admin.ModelAdmin):
    """A model page scoped by `line_path`: the lookup from the model to its line of business
    (None: bank-wide objects, which only bank-wide administrators change)."""

    line_path: str | None = None
    line_fields: tuple[str, ...] = ("line_of_business",)  # foreign keys offered only within scope

    def _lines(self, request):
        return administered_lines(request.user)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        lines = self._lines(request)
        if lines is None or self.line_path is None:
            return queryset
        return queryset.filter(**{f"{self.line_path}__in": lines})

    def line_of(self, obj) -> int | None:
        return _follow(obj, self.line_path)

    def has_module_permission(self, request):
        return site.has_permission(request)

    def has_view_permission(self, request, obj=None):
        return site.has_permission(request)

    def has_add_permission(self, request):
        return site.has_permission(request) and (self.line_path is not None or self._lines(request) is None)

    def has_change_permission(self, request, obj=None):
        if not site.has_permission(request):
            return False
        if obj is None:
            return self.line_path is not None or self._lines(request) is None
        return in_scope(request.user, self.line_of(obj))

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        lines = self._lines(request)
        if lines is not None and db_field.name in self.line_fields:
            related = db_field.remote_field.model
            path = "id" if related._meta.label_lower == "accounts.lineofbusiness" else "line_of_business"
            kwargs["queryset"] = related._default_manager.filter(**{f"{path}__in": lines})
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        before = self.line_of(type(obj)._default_manager.get(pk=obj.pk)) if change else None
        with _refusals_as_403():
            administration_save(actor=request.user, address=client_address(request), obj=obj, adding=not change,
                                fields=_model_fields(obj, form.changed_data if change else form.cleaned_data),
                                line_before=before, line_after=self.line_of(obj))

    def delete_model(self, request, obj):
        with _refusals_as_403():
            administration_delete(actor=request.user, address=client_address(request), obj=obj,
                                  line=self.line_of(obj))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    # The audit trail records every change (administration_save/_delete); LogEntry is not kept.
    def log_addition(self, request, obj, message):
        return None

    def log_change(self, request, obj, message):
        return None

    def log_deletions(self, request, queryset):
        return None
