from ninja import Schema


class ErrorBody(Schema):
    code: str
    message: str
    retry_after: float | None = None
    details: list[dict] | None = None


class ErrorOut(Schema):
    error: ErrorBody
