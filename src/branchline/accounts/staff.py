from django.contrib.auth import authenticate, login, logout
from django.utils.translation import gettext as _

from branchline.core.errors import Unauthorized


def staff_sign_in(request, *, username: str, password: str):
    """Sign a member of staff in on this request's session (console page and API)."""
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        raise Unauthorized(_("The username or password is not right."), code="bad_credentials")
    login(request, user)
    return user


def staff_sign_out(request) -> None:
    logout(request)
