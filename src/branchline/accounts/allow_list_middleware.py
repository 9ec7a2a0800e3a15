"""The IP allow-lists (allow_lists.py), enforced on every HTTP request."""
from django.http import HttpResponse, JsonResponse

from branchline.core.errors import DomainError, Unavailable
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
        try:
            if allowed(surface, address):
                return self.get_response(request)
        except Unavailable as error:  # no list could be read yet: 503, as for any busy database
            return self._answer(request, error)
        access_refused(surface=surface, address=address, path=request.path)
        return self._answer(request, IpNotAllowed())

    @staticmethod
    def _answer(request, error: DomainError):
        """The error in the API's shape under /api/, as plain text for pages."""
        if request.path.startswith("/api/"):
            response = JsonResponse({"error": error.as_dict()}, status=error.status)
        else:
            response = HttpResponse(error.message, status=error.status, content_type="text/plain; charset=utf-8")
        if isinstance(error, Unavailable):
            response["Retry-After"] = "1"
        return response
