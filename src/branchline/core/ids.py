"""Ids as clients send them: in paths, bodies and frames."""
from .errors import NotFound

# Bigger than any id: a path or frame naming one is simply not found (never a database error).
MAX_ID = 2**63 - 1


def parse_id(value, *, code="conversation_not_found") -> int:
    """A positive 64-bit id, or NotFound with `code` (a bad id names nothing)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise NotFound(code=code)
    try:
        number = int(value)
    except ValueError:
        raise NotFound(code=code) from None
    if not 0 < number <= MAX_ID:
        raise NotFound(code=code)
    return number
