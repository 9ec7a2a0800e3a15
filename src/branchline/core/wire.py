"""Wire formats shared by the JSON API and socket events."""
from django.core.serializers.json import DjangoJSONEncoder

_encoder = DjangoJSONEncoder()


def timestamp(value):
    """ISO 8601 in UTC with milliseconds and "Z", exactly as the JSON API renders it."""
    return _encoder.default(value) if value is not None else None
