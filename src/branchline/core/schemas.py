"""Shapes shared by every app, and parsing with them."""
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import ValidationError

from .errors import InvalidInput


class ErrorBody(Schema):
    code: str
    message: str
    retry_after: float | None = None
    details: list[dict] | None = None


class ErrorOut(Schema):
    error: ErrorBody


def invalid(errors: list[dict]) -> InvalidInput:
    """A schema's complaints as the one 422 answer, for HTTP bodies and socket frames alike."""
    details = [{"loc": [str(part) for part in error.get("loc", [])], "msg": error.get("msg", "")}
               for error in errors]
    return InvalidInput(_("The request is not valid: see details."), code="invalid", details=details)


def parse(schema: type[Schema], data: dict) -> Schema:
    """Validate `data` (a socket frame) with the schema the HTTP API uses for the same body."""
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        raise invalid(error.errors(include_url=False)) from None
