"""The administration's writes (accounts/administration.py, Django's admin, scoped): each
change is checked against the administrator's lines of business once more here, whatever
the page allowed, saved, and audited as `administration.changed`.

Scope: an administrator with Django's superuser flag administers the whole bank (every line,
and what belongs to no line: channels, new lines of business, administrators); any other
administrator the agents, supervisors and auditors of their own line of business, never
another administrator (who could otherwise be taken over: a new password, their second
factor reset) and never a bank-wide administrator's account."""
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from branchline.core.errors import Forbidden
from branchline.events import Actor, publish

from ..events import AdministrationChanged, SecondFactorReset
from ..models import Passkey, Role, User

SECRET_FIELDS = frozenset({"password"})
# Who may not change these about themselves: an administrator who demotes, deactivates or
# moves themselves out of their line locks themselves out.
OWN_FIELDS_LOCKED = frozenset({"role", "is_active", "line_of_business"})


def administered_lines(user: User) -> frozenset[int] | None:
    """The lines of business `user` administers: None for every line (a bank-wide
    administrator), an empty set for someone who is not an administrator."""
    if not (user.is_active and user.role == Role.ADMIN):
        return frozenset()
    if user.is_superuser:
        return None
    return frozenset({user.line_of_business_id}) if user.line_of_business_id else frozenset()


def in_scope(user: User, line_id: int | None) -> bool:
    """May `user` administer something of line `line_id` (None: of no line, bank-wide)?"""
    lines = administered_lines(user)
    return lines is None or (line_id is not None and line_id in lines)


def _actor(user: User, address: str) -> Actor:
    return Actor("staff", user.id, user.display_name, address)


def _refuse() -> Forbidden:
    return Forbidden(_("This belongs to another line of business."), code="not_your_line")


def administration_save(*, actor: User, address: str, obj, adding: bool, fields, line_before, line_after) -> None:
    """Save `obj` (added or with `fields` changed) for administrator `actor`: the object's
    line of business before (for a change) and after must both be theirs."""
    if (not adding and not in_scope(actor, line_before)) or not in_scope(actor, line_after):
        raise _refuse()
    if isinstance(obj, User):
        _check_staff_change(actor, obj, fields)
    fields = tuple(sorted(set(fields)))
    with transaction.atomic():
        obj.save()
        publish(AdministrationChanged(
            actor=_actor(actor, address), model=obj._meta.label_lower, object_id=obj.pk, object_repr=str(obj)[:200],
            change="added" if adding else "changed", fields=fields,
            values={name: _shown(obj, name) for name in fields if name not in SECRET_FIELDS}))


def staff_refusal(actor: User, user: User, *, role: str | None = None) -> Forbidden | None:
    """Why `actor` may not administer member of staff `user` (None: they may): another line's,
    a bank-wide administrator's account, or another administrator's (`role`: the role the
    account has or is being given) for anyone but a bank-wide administrator."""
    if not in_scope(actor, user.line_of_business_id) or (user.is_superuser and not actor.is_superuser):
        return _refuse()
    if user.pk != actor.pk and not actor.is_superuser and Role.ADMIN in (user.role, role):
        return _administrators_only()
    return None


def _check_staff_change(actor: User, user: User, fields) -> None:
    # The role stored, not only the form's: demoting another administrator is changing one.
    refusal = staff_refusal(actor, user, role=_stored_role(user))
    if refusal is not None:
        raise refusal
    if user.pk == actor.pk and OWN_FIELDS_LOCKED & set(fields):
        raise Forbidden(_("You cannot change your own role, line of business or access: ask another "
                          "administrator."), code="own_access")


def _stored_role(user: User) -> str | None:
    return User.objects.filter(pk=user.pk).values_list("role", flat=True).first() if user.pk else None


def _administrators_only() -> Forbidden:
    return Forbidden(_("Only a bank-wide administrator makes or changes administrators."), code="administrators_only")


def _shown(obj, name: str):
    value = getattr(obj, f"{obj._meta.get_field(name).attname}")
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def administration_delete(*, actor: User, address: str, obj, line: int | None) -> None:
    if not in_scope(actor, line):
        raise _refuse()
    label, object_id, text = obj._meta.label_lower, obj.pk, str(obj)[:200]
    with transaction.atomic():
        obj.delete()
        publish(AdministrationChanged(actor=_actor(actor, address), model=label, object_id=object_id,
                                      object_repr=text, change="deleted", fields=(), values={}))


def second_factor_reset(*, actor: User, address: str, user: User) -> tuple[str, ...]:
    """Remove `user`'s passkeys, authenticator and recovery codes (they lost them): they set
    up a second factor again at their next sign-in. Not one's own: another administrator
    must confirm it is really them."""
    refusal = staff_refusal(actor, user)
    if refusal is not None:
        raise refusal
    if user.pk == actor.pk:
        raise Forbidden(_("Another administrator must reset your second factor."), code="own_access")
    with transaction.atomic():
        removed = tuple(kind for kind, rows in (
            ("passkeys", Passkey.objects.filter(user=user)),
            ("authenticator", TOTPDevice.objects.filter(user=user)),
            ("recovery codes", StaticDevice.objects.filter(user=user))) if rows.delete()[0])
        publish(SecondFactorReset(actor=_actor(actor, address), user_id=user.id, removed=removed))
    return removed
