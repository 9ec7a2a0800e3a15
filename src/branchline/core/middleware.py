"""Every answer under /api/ is JSON in the one error shape, including Django's own
404/405/413/500 answers that never reach django-ninja's handlers."""

import logging

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _  # read when answering: in its language

log = logging.getLogger(__name__)

_CODES = {
    400: ("bad_request", _("The request is not valid.")),
    403: ("forbidden", _("You are not allowed to do this.")),
    404: ("not_found", _("Not found.")),
    405: ("method_not_allowed", _("This method is not allowed here.")),
    413: ("too_large", _("The request is too large.")),
    500: ("internal", _("Something went wrong; try again.")),
}


def json_error(status: int) -> JsonResponse:
    code, message = _CODES.get(status, ("http_error", _("The request failed.")))
    return JsonResponse({"error": {"code": code, "message": str(message)}}, status=status)


class ApiErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (request.path.startswith("/api/") and response.status_code >= 400
                and not response.get("Content-Type", "").startswith("application/json")):
            return json_error(response.status_code)
        return response

    def process_exception(self, request, exception):
        if not request.path.startswith("/api/"):
            return None
        log.exception("API request failed", exc_info=exception)
        return json_error(500)
