"""The IP allow-lists (allow_lists.py), enforced on every HTTP request."""
from django.http import HttpResponseForbidden, JsonResponse

from branchline.core.http import client_address

from .actions import access_refused
from .allow_lists import IpNotAllowed, allowed, surface_of_path


class IpAllowListMiddleware:
    """After TrustedProxyMiddleware (which settles the client's address): a request to a
    surface from outside its allow-list gets 403 `ip_not_allowed`, and the refusal is
    recorded in the audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        surface = surface_of_path(request.path)
        address = client_address(request)
        if allowed(surface, address):
            return self.get_response(request)
        access_refused(surface=surface, address=address, path=request.path)
        refusal = IpNotAllowed()
        if request.path.startswith("/api/"):
            return JsonResponse({"error": refusal.as_dict()}, status=refusal.status)
        return HttpResponseForbidden(refusal.message, content_type="text/plain; charset=utf-8")
