"""Facts about the HTTP request every layer needs."""


def client_address(request) -> str:
    """The client's address as the ASGI server reports it (see docs/protocol.md §4)."""
    return request.META.get("REMOTE_ADDR", "")
