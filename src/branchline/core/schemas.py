"""Shapes shared by every app, and parsing with them."""
import json

from django.http import HttpResponse
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


def already_shaped(body) -> HttpResponse:
    """An answer built by the payload builders, whose output tests/test_wire_shapes.py holds
    to the operation's response schema: sent as it is. django-ninja would validate it
    again, field by field, which cost ~15 % of a history page's CPU (bench/README.md)."""
    return HttpResponse(json.dumps(body), content_type="application/json; charset=utf-8")
