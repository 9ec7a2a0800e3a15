"""Django's HTTP handling under ASGI, run the way a threaded WSGI server runs it: the
whole request (signals, middleware, view, rendering) in one call on one of a fixed set of
worker threads that keep their database connections.

Django's own ASGIHandler runs sync middleware and views through asgiref: a new thread for
every request (ThreadSensitiveContext) and a hop between the event loop and that thread at
each sync/async boundary of the middleware chain, then again for the signals and for closing
the response. Every view and middleware here is sync, so those hops bought nothing and cost
about half of a history page's CPU (bench/README.md, "History paging"); ADR 0010."""
import asyncio
import contextvars
from contextlib import closing

from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix

from .middleware import json_error
from .threads import fresh_connections, keep_connections, worker_threads

_request_threads = worker_threads(settings.HTTP_THREADS, "http")


class ThreadedHttpHandler(ASGIHandler):
    def __init__(self):
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)  # one sync chain, called straight from _respond

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP only, not {scope['type']!r}")
        try:
            body_file = await self.read_body(_capped(scope, receive))
        except RequestAborted:
            return
        except BodyTooLarge:  # refused unread: nobody fills the disk with one request
            await self.send_response(json_error(413), send)
            return
        # A copy of this task's (clean) context per request: what a request sets in
        # context variables (its language, script prefix) dies with it, not with the thread.
        # Django's ASGIHandler also listens for the client going away to cancel the view; a
        # sync view cannot be cancelled, so there is nothing to listen for.
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        with closing(body_file):
            response = await loop.run_in_executor(_request_threads, context.run, self._respond, scope, body_file)
            if response.streaming and not response.is_async:  # a file (WhiteNoise) or a generator
                response.streaming_content = _read_in_threads(iter(response.streaming_content), loop, context)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:  # its file or iterator stayed open for sending
                    await loop.run_in_executor(_request_threads, context.run, self._close, response)

    def _respond(self, scope, body_file):
        fresh_connections()
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            self._close(response)  # the body is rendered: nothing is left to read from the view
            if request is not None:
                _free(request)
        return response

    @staticmethod
    def _close(response):
        keep_connections()  # request_finished closes old connections; this thread keeps its own
        response.close()


class BodyTooLarge(Exception):
    pass


def _capped(scope, receive):
    """`receive`, refusing a body beyond the largest file and its form: at once when the
    request declares its length, else as soon as it has sent more."""
    limit = (settings.BRANCHLINE["FILE_MAX_MB"] + 1) * 1024 * 1024
    for name, value in scope.get("headers", ()):
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise BodyTooLarge()
    received = 0

    async def capped():
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise BodyTooLarge()
        return message

    return capped


def _free(request) -> None:
    """Free a finished request now rather than at the collector's next pass.

    Django ties a request into reference cycles (the lazy user's closure, the messages and
    session storages, the CSP nonce, htmx's details each point back at it), so its ~400
    objects, the URL resolver's list of patterns tried among them, outlive it as garbage.
    They made the collector run every few requests, with pauses of 15-25 ms (bench/README.md,
    history paging). Once the response is closed (request_finished has run) nothing reads
    the request again; emptying it breaks every cycle and reference counting frees the rest."""
    request.__dict__.clear()


async def _read_in_threads(chunks, loop, context):
    """A sync body's chunks, each read on a request thread: a file read must not block the
    event loop, and Django would otherwise read the whole body into a list first."""
    end = object()
    while (chunk := await loop.run_in_executor(_request_threads, context.run, next, chunks, end)) is not end:
        yield chunk
