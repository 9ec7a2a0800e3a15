"""Pages: the customer chat widget, the staff console and its sign-in, the audit trail. They are thin
shells; everything they show comes from the JSON API and the socket."""
import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.csp import CSP
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from branchline.accounts import oidc
from branchline.accounts.actions import (
    passkeys,
    second_factor,
    sso,
    staff_sign_in,
    staff_sign_out,
    staff_sso,
)
from branchline.accounts.administration import site as administration
from branchline.accounts.permissions import require_audit_reader
from branchline.accounts.principals import Principal
from branchline.audit.selectors import audited_event_names
from branchline.core import ratelimit
from branchline.core.errors import Forbidden, NotFound, RateLimited, Unauthorized
from branchline.core.http import client_address


def home(request):
    return render(request, "web/home.html")


def _limits() -> dict:
    """Limits the pages enforce before the server does (docs/protocol.md §4)."""
    return {"message_max_chars": settings.BRANCHLINE["MESSAGE_MAX_CHARS"]}


# The widget may be framed by the bank's own pages (configured origins) and by us.
_WIDGET_CSP = {**settings.SECURE_CSP, "frame-ancestors": [CSP.SELF, *settings.WIDGET_FRAME_ANCESTORS]}


@xframe_options_exempt
@csp_override(_WIDGET_CSP)
def chat_page(request):
    return render(request, "web/chat.html", {"bank_sign_in": oidc.customers.enabled(),
                                             **_limits()})


@login_required
def console_page(request):
    return render(request, "web/console.html", {**_limits(), "reads_audit": _reads_audit(request.user),
                                                "administers": administration.has_permission(request)})


def _reads_audit(user) -> bool:
    try:
        require_audit_reader(Principal.of_staff(user))
    except Forbidden:
        return False
    return True


@login_required
def audit_page(request):
    """The audit trail for auditors and administrators (frontend/src/audit/): filters, pages
    of records, and the retention. Others are told it is not for them (403)."""
    if not _reads_audit(request.user):
        raise PermissionDenied(_("Only auditors and administrators read the audit trail."))  # templates/403.html
    return render(request, "web/audit.html", {"events": audited_event_names(),
                                              "administers": administration.has_permission(request)})


AFTER_SIGN_IN = "_branchline_after_sign_in"  # session key: where the second factor leads


def _next_page(request) -> str:
    """Where to go once signed in: the page that sent them to sign in (the administration,
    say), if it is one of ours; else the console."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return wanted
    return reverse("console")


@require_http_methods(["GET", "POST"])
def console_login(request):
    error, status = None, 200
    if request.method == "POST":
        try:
            _user, next_step = staff_sign_in(request, username=request.POST.get("username", ""),
                                             password=request.POST.get("password", ""))
            if not next_step:
                return redirect(_next_page(request))
            request.session[AFTER_SIGN_IN] = _next_page(request)
            return redirect("console-second-factor")
        except (Unauthorized, RateLimited) as exc:
            error, status = exc.message, exc.status
    return _login_page(request, error, status)


def _login_page(request, error=None, status=200):
    sso = settings.STAFF_OIDC["LABEL"] if oidc.staff.enabled() else None
    return render(request, "web/login.html", {"error": error, "next": _next_page(request), "sso_label": sso},
                  status=status if error else 200)


@require_POST
def console_sso_start(request):
    """The sign-in page's single sign-on button: off to the bank's workforce provider."""
    try:
        return redirect(staff_sso.staff_sso_start(request, next_page=_next_page(request)))
    except (NotFound, RateLimited, oidc.SsoUnavailable) as exc:
        return _login_page(request, exc.message, exc.status)


@require_http_methods(["GET"])
def console_sso_callback(request):
    """The workforce provider sends the browser back: signed in (or on to the second
    factor), or the sign-in page with what went wrong."""
    try:
        _user, step, after = staff_sso.staff_sso_return(
            request, state=request.GET.get("state"), code=request.GET.get("code"), error=request.GET.get("error"),
            iss=request.GET.get("iss"))
    except (Unauthorized, NotFound, oidc.SsoUnavailable) as exc:
        response = _login_page(request, exc.message, exc.status)
    else:
        if step:
            request.session[AFTER_SIGN_IN] = after
            response = redirect("console-second-factor")
        else:
            response = redirect(after)
    response["Referrer-Policy"] = "no-referrer"  # the URL holds the provider's code and our state
    return response


@require_http_methods(["GET", "POST"])
def console_second_factor(request):
    """After the password: a passkey (passkey.js posts the browser's answer here), the
    authenticator's code, or a recovery code; at the first sign-in, set up a passkey or an
    authenticator (QR code) first; after that, the recovery codes once."""
    try:
        user = second_factor.pending_user(request)
    except Unauthorized:  # no password step, or it ran out: start again
        return redirect("console-login")
    error, status = None, 200
    if request.method == "POST":
        try:
            passkey = _json_object(request.POST.get("passkey"))
            code = None if passkey is not None else request.POST.get("code", "")
            _user, recovery_codes = second_factor.second_factor_verify(request, code=code, passkey=passkey)
        except (Unauthorized, RateLimited) as exc:
            error, status = exc.message, exc.status
        else:
            after = request.session.pop(AFTER_SIGN_IN, None) or reverse("console")
            if recovery_codes:
                return render(request, "web/recovery_codes.html", {"codes": recovery_codes, "after": after})
            return redirect(after)
    enrolment = None if second_factor.has_second_factor(user) else second_factor.totp_enrolment(request)
    return render(request, "web/second_factor.html",
                  {"error": error, "enrolment": enrolment, "has_passkey": passkeys.has_passkey(user)}, status=status)


def _json_object(text: str | None) -> dict | None:
    """The passkey form's answer: None when the form sent none; {} (refused as a wrong
    answer, not a server error) when it is not a JSON object."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@require_POST
def console_logout(request):
    staff_sign_out(request)
    return redirect("console-login")


@require_http_methods(["GET"])
def sso_callback(request):
    """The bank's provider sends the customer's browser back here. The sign-in completes on
    the server; the widget gets only a single-use code (in a pop-up's message, or in the URL
    fragment: never in a URL a server sees) to redeem with the binding only it holds.

    The answer is a page, not a redirect, and may keep its opener (Cross-Origin-Opener-
    Policy unsafe-none): a widget framed in the bank's site opens the bank's page in a
    pop-up, and Django's default same-origin policy would cut the pop-up off from it."""
    code, error = "", ""
    try:
        code = sso.sso_sign_in_return(state=request.GET.get("state"), code=request.GET.get("code"),
                                      error=request.GET.get("error"), iss=request.GET.get("iss"))
    except (Unauthorized, NotFound, oidc.SsoUnavailable) as refused:
        error = refused.code
    response = render(request, "web/sso_done.html",
                      {"target": settings.CUSTOMER_OIDC["WIDGET_URL"], "code": code, "error": error})
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the URL holds the provider's code and our state
    return response


@csrf_exempt  # called by the bank's provider, server to server, with a signed logout token
@require_POST
def sso_backchannel_logout(request):
    """OpenID Connect Back-Channel Logout 1.0, section 2.8: 200 once the sign-ins it names
    have ended, 400 for a token we cannot accept; never cached. Budgeted per address: each
    call may make us read the provider's keys."""
    try:
        ratelimit.hit(f"sso-logout:{client_address(request)}", rate=1, burst=60)
        sso.sso_backchannel_logout(logout_token=request.POST.get("logout_token"))
        response = HttpResponse(status=200)
    except (Unauthorized, NotFound):
        response = HttpResponse(status=400)
    except oidc.SsoUnavailable:
        response = HttpResponse(status=503)
    except RateLimited:
        response = HttpResponse(status=429)
    response["Cache-Control"] = "no-store"
    return response


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
