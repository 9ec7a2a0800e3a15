"""The JSON API: one NinjaAPI mounting each app's router; errors in one shape."""
import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from branchline.accounts.api import router as accounts_router
from branchline.audit.api import router as audit_router
from branchline.cases.api import router as cases_router
from branchline.conversations.api import router as conversations_router
from branchline.conversations.case_api import router as case_router
from branchline.conversations.contact_api import router as contact_router
from branchline.conversations.file_api import router as file_router
from branchline.core.errors import DomainError, NotFound, Unauthorized, Unavailable
from branchline.core.middleware import json_error
from branchline.core.outage import QuietLog
from branchline.core.schemas import invalid
from branchline.knowledge.api import router as knowledge_router

log = logging.getLogger(__name__)

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}


class BranchlineApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        """Each operation lists its own answers; these come from outside the endpoints
        (the handlers below, ninja's body parsing and CSRF check) and are added here, once."""
        schema = super().get_openapi_schema(**kwargs)
        cookie_schemes = {name for name, scheme in schema["components"].get("securitySchemes", {}).items()
                          if scheme.get("in") == "cookie"}  # ninja checks CSRF for cookie auth
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                answers = {503: "The database is busy or away: retry after Retry-After"}
                if method in ("post", "put", "patch", "delete"):
                    answers[400] = "The body cannot be parsed"
                    answers[413] = "The body is over 256 KiB"
                    if any(cookie_schemes & set(s) for s in operation.get("security", [])):
                        answers[403] = "CSRF check failed"
                responses = operation["responses"]
                for status, description in answers.items():
                    responses.setdefault(status, {"description": description, "content": _ERROR})
                operation["responses"] = dict(sorted(responses.items()))
        return schema


api = BranchlineApi(
    title="Branchline API",
    version="1",
    description="Conversations between a bank's customers and its staff. See docs/protocol.md for the socket.",
    urls_namespace="api",
)
api.add_router("", accounts_router)
api.add_router("", cases_router)
api.add_router("", conversations_router)
api.add_router("", case_router)
api.add_router("", contact_router)
api.add_router("", file_router)
api.add_router("", knowledge_router)
api.add_router("", audit_router)


def _error_response(request, exc: DomainError, extra=None):
    body = exc.as_dict()
    if extra:
        body.update(extra)
    response = api.create_response(request, {"error": body}, status=exc.status)
    if getattr(exc, "retry_after", None):
        response["Retry-After"] = str(max(1, round(exc.retry_after)))
    return response


@api.exception_handler(DomainError)
def domain_error(request, exc):
    return _error_response(request, exc)


@api.exception_handler(ValidationError)
def validation_error(request, exc):
    return _error_response(request, invalid(exc.errors))


@api.exception_handler(AuthenticationError)
def authentication_error(request, exc):
    return _error_response(request, Unauthorized())


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error_response(request, NotFound())


# Request bodies Django refuses while parsing them (in ninja's CSRF check or its own body
# parsing): errors of the client, not the server, whatever DEBUG says.
@api.exception_handler(RequestDataTooBig)
def body_too_large(request, exc):
    return json_error(413)


@api.exception_handler(MultiPartParserError)
def body_unparseable(request, exc):
    return http_error(request, HttpError(400, "Cannot parse request body"))


@api.exception_handler(SuspiciousOperation)  # e.g. a form of over 1000 fields
def request_refused(request, exc):
    return json_error(400)


@api.exception_handler(HttpError)
def http_error(request, exc):
    error = DomainError(str(exc), code="http_error")
    error.status = exc.status_code
    return _error_response(request, error)


# The database is away or saturated: no connection from the pool in time, a statement cut
# off by statement_timeout, a lost connection, a lock or serialization conflict. All are
# worth a retry, so they are 503s, not 500s; and logged once per minute, not per request.
_database_outage = QuietLog(log, "database", "requests answered 503")


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def database_unavailable(request, exc):
    _database_outage.failed(exc)
    return _error_response(request, Unavailable())
