"""Domain errors. Every layer (API, socket, pages) maps these to one wire shape:
{"error": {"code": ..., "message": ...}} with the HTTP status below."""
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "bad_request"
    default_message = _("The request is not valid.")

    def __init__(self, message=None, *, code=None):
        self.message = str(message or self.default_message)
        if code:
            self.code = code
        super().__init__(self.message)

    def as_dict(self):
        return {"code": self.code, "message": self.message}


class InvalidInput(DomainError):
    status = 422
    code = "invalid"

    def __init__(self, message=None, *, code=None, details: list[dict] | None = None):
        super().__init__(message, code=code)
        self.details = details

    def as_dict(self):
        body = super().as_dict()
        if self.details:
            body["details"] = self.details
        return body


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    default_message = _("Sign in first, or sign in again: the session is missing or has expired.")


class NotFound(DomainError):
    # Also used for objects that exist but belong to someone else: we never confirm
    # that another customer's conversation exists.
    status = 404
    code = "not_found"
    default_message = _("Not found.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _("You are not allowed to do this.")


class TooLarge(DomainError):
    status = 413
    code = "too_large"
    default_message = _("The request is too large.")


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"
    default_message = _("Send the body as JSON (Content-Type: application/json).")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _("The conversation has changed; refresh and try again.")


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = _("Too many messages at once. Wait a moment and try again.")

    def __init__(self, message=None, *, retry_after=1.0):
        super().__init__(message)
        self.retry_after = retry_after

    def as_dict(self):
        return {**super().as_dict(), "retry_after": round(self.retry_after, 2)}


class Unavailable(DomainError):
    # A dependency (the database) is busy or away for a moment: retrying soon is right.
    status = 503
    code = "unavailable"
    default_message = _("The service is busy; try again in a moment.")
    retry_after = 1.0
