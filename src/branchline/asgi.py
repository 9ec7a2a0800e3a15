"""The one ASGI application: Django for HTTP, our gateway for the socket, our lifespan."""
import os

# Without explicit settings a server runs as production, which refuses to start without a
# SECRET_KEY: the demo (DEBUG, demo sign-in, a known key) is only ever chosen by name.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "branchline.settings.production")

import django  # noqa: E402

django.setup(set_prefix=False)

from branchline.core.http_handler import ThreadedHttpHandler  # noqa: E402

django_app = ThreadedHttpHandler()

from branchline.realtime.gateway import websocket_app  # noqa: E402
from branchline.realtime.lifespan import lifespan_app  # noqa: E402


async def application(scope, receive, send):
    if scope["type"] == "http":
        return await django_app(scope, receive, send)
    if scope["type"] == "websocket":
        return await websocket_app(scope, receive, send)
    if scope["type"] == "lifespan":
        return await lifespan_app(scope, receive, send)
    raise ValueError(f"unsupported scope {scope['type']!r}")
