from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.utils.translation import gettext as _

from branchline.core import ratelimit
from branchline.core.errors import Unauthorized


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def staff_sign_in(request, *, username: str, password: str):
    """Sign a member of staff in on this request's session (console page and API).

    Failed attempts are budgeted per address and username, so passwords cannot be
    guessed at speed; a correct password is refused too once the budget is spent."""
    per_15_minutes = settings.BRANCHLINE["SIGN_IN_FAILURES_PER_15_MINUTES"]
    budget = {"key": f"signin:{client_address(request)}:{username.lower()[:150]}",
              "rate": per_15_minutes / 900, "burst": per_15_minutes}
    ratelimit.check(**budget)
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        ratelimit.hit(**budget)
        raise Unauthorized(_("The username or password is not right."), code="bad_credentials")
    login(request, user)
    return user


def staff_sign_out(request) -> None:
    logout(request)
