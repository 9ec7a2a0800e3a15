"""HTTP requests run whole on the process's request threads (core/http_handler.py, ADR 0010):
a fixed set of threads that keep their database connections, a clean context for every
request, files streamed without blocking the event loop, and failures answered, not lost."""
import contextvars
import gc
import threading
import warnings
import weakref
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.conf import settings
from django.core import signals
from django.db.backends.signals import connection_created
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.test import override_settings
from django.urls import path

from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS = 60


def _customer_reads(live, token: str) -> list[httpx.Response]:
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client, \
            ThreadPoolExecutor(12) as pool:
        return list(pool.map(lambda _: client.get("/api/customer/messages", params={"limit": 5}), range(REQUESTS)))


def test_requests_share_a_fixed_set_of_threads_that_keep_their_connections(live, world):
    _, token = factories.customer_with_token()
    _customer_reads(live, token)  # every request thread has had its first request
    threads, opened = set(), []

    def started(**_):
        threads.add(threading.current_thread().name)

    def created(connection, **_):
        opened.append(threading.current_thread().name)

    signals.request_started.connect(started)
    connection_created.connect(created)
    try:
        answers = _customer_reads(live, token)
    finally:
        signals.request_started.disconnect(started)
        connection_created.disconnect(created)
    assert [a.status_code for a in answers] == [200] * REQUESTS
    assert threads and all(name.startswith("branchline-http") for name in threads), threads
    assert len(threads) <= settings.HTTP_THREADS
    opened = [name for name in opened if name.startswith("branchline-http")]  # not the gateway's sweeps
    assert opened == [], f"{len(opened)} connections opened for {REQUESTS} requests on warm threads"


PROBE = contextvars.ContextVar("probe")


def test_every_request_starts_in_a_clean_context(live, world):
    """What one request sets in a context variable (its language, its script prefix, this
    probe) is not there for the next request on the same thread."""
    _, token = factories.customer_with_token()
    seen = []

    def started(**_):
        seen.append(PROBE.get(None))
        PROBE.set("left over by an earlier request")

    signals.request_started.connect(started)
    try:
        answers = _customer_reads(live, token)
    finally:
        signals.request_started.disconnect(started)
    assert [a.status_code for a in answers] == [200] * REQUESTS
    assert seen == [None] * REQUESTS


CHUNK_THREADS: list[str] = []


def _chunks():
    for n in range(3):
        CHUNK_THREADS.append(threading.current_thread().name)
        yield f"part {n};".encode()


def _file_view(request):
    return FileResponse(open(settings.STATICFILES_DIRS[0] / "console" / "console.js", "rb"))  # by `make assets`


def _generator_view(request):
    return StreamingHttpResponse(_chunks())


SEEN_REQUESTS: list[weakref.ref] = []


def _remembering_view(request):
    request.user  # noqa: B018 - Django's lazy user ties the request into a reference cycle
    SEEN_REQUESTS.append(weakref.ref(request))
    return HttpResponse("ok")


urlpatterns = [path("file", _file_view), path("generator", _generator_view), path("remember", _remembering_view)]


@override_settings(ROOT_URLCONF=__name__)
def test_a_streamed_body_is_read_on_the_request_threads_and_sent_whole(live):
    """A file or generator body is read chunk by chunk off the event loop (Django's own
    handler would warn and read it whole into a list first)."""
    CHUNK_THREADS.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        file = httpx.get(f"{live.url}/file", timeout=10)
        generated = httpx.get(f"{live.url}/generator", timeout=10)
    assert (file.status_code, file.content) == (200, (settings.STATICFILES_DIRS[0] / "console" / "console.js").read_bytes())
    assert (generated.status_code, generated.content) == (200, b"part 0;part 1;part 2;")
    assert len(CHUNK_THREADS) == 3 and all(name.startswith("branchline-http") for name in CHUNK_THREADS)
    assert not [w for w in caught if "synchronous iterators" in str(w.message)]


@override_settings(ROOT_URLCONF=__name__)
def test_a_finished_request_is_freed_at_once_not_by_the_collector(live):
    """A request sits in reference cycles (its lazy user, messages, CSP nonce); left to the
    collector, each one's objects made it run every few requests, with pauses of 15-25 ms
    (bench/README.md). The handler frees it when its response is done."""
    SEEN_REQUESTS.clear()
    gc.disable()
    try:
        answer = httpx.get(f"{live.url}/remember", timeout=10)
        assert (answer.status_code, answer.text) == (200, "ok")
        assert len(SEEN_REQUESTS) == 1
        assert SEEN_REQUESTS[0]() is None, "the request outlived its response"
    finally:
        gc.enable()


def test_the_objects_made_at_start_up_are_left_out_of_full_collections():
    """A full collection walks every object of the process; the ~150,000 that start-up makes
    and that live as long as the process cost 90-100 ms a pass (bench/README.md)."""
    from branchline.core.memory import freeze_startup_objects

    before = len(gc.get_objects())
    freeze_startup_objects()
    try:
        assert gc.get_freeze_count() >= before * 0.9
        assert len(gc.get_objects()) < before * 0.1
    finally:
        gc.unfreeze()


def test_a_failing_view_is_answered_and_the_thread_serves_on(live, world, monkeypatch):
    from branchline.conversations import api

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    _, token = factories.customer_with_token()
    monkeypatch.setattr(api.selectors, "messages_for_customer_before", broken)
    headers = {"Authorization": f"Bearer {token}"}
    failed = [httpx.get(f"{live.url}/api/customer/messages", headers=headers, timeout=10)
              for _ in range(settings.HTTP_THREADS + 1)]
    monkeypatch.undo()
    assert {(r.status_code, r.json()["error"]["code"]) for r in failed} == {(500, "internal")}
    assert httpx.get(f"{live.url}/api/customer/messages", headers=headers, timeout=10).status_code == 200
