import json
import os
import threading
import time
from contextlib import contextmanager

import pytest
import uvicorn
from django.utils import translation

from branchline.connectors.actions import channel_web
from branchline.contacts.models import Contact
from branchline.conversations.models import Tag
from branchline.core.scanner import _breaker as scanner_breaker
from branchline.realtime.bus import set_bus
from branchline.routing.actions import queue_default_ensure
from branchline.routing.models import Queue
from tests import factories
from tests.support.clamd import Scanner, clamd_binary
from tests.support.servers import free_port


class RecordingBus:
    """Stands in for the bus: keeps every envelope published after commit."""

    def __init__(self):
        self.sent = []

    def send(self, envelope: bytes):
        self.sent.append(json.loads(envelope))

    async def start(self, *args):
        pass

    async def stop(self):
        pass


@pytest.fixture(scope="session")
def scanner():
    """ClamAV's clamd with the test signatures (tests/support/clamd.py), for the session."""
    try:
        clamd_binary()
    except RuntimeError as missing:
        if os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}:
            pytest.fail(f"{missing} (CI=true: the scanner's tests must run, not skip)", pytrace=False)
        pytest.skip(str(missing))
    with Scanner() as running:
        yield running


@pytest.fixture
def scanning(scanner, settings, tmp_path):
    """Uploads scanned by the session's clamd, and kept in a folder of this test's own."""
    settings.BRANCHLINE = {**settings.BRANCHLINE, "CLAMD": scanner.socket_path}
    attachments = settings.STORAGES["attachments"]
    settings.STORAGES = {**settings.STORAGES, "attachments": {
        **attachments, "OPTIONS": {**attachments["OPTIONS"], "location": str(tmp_path / "attachments")}}}
    scanner_breaker.succeeded()  # whatever an earlier test did to it
    yield scanner
    scanner_breaker.succeeded()


@pytest.fixture
def capture_events(django_capture_on_commit_callbacks):
    """with capture_events() as events: ...  -> events: [{"t", "a", "c", "s", "d"}]"""

    @contextmanager
    def capture():
        bus = RecordingBus()
        previous = set_bus(bus)
        try:
            with django_capture_on_commit_callbacks(execute=True):
                yield bus.sent
        finally:
            set_bus(previous)

    return capture


@pytest.fixture
def world(db):
    """A line of business with a topic, an agent, a supervisor, an admin; and another
    line of business with its own agent."""

    class World:
        lob = factories.line_of_business("Retail")
        topic = factories.topic(lob, "Cards")
        loans = factories.topic(lob, "Loans")  # another case type of the line
        agent = factories.staff(lob)
        agent2 = factories.staff(lob)
        supervisor = factories.staff(lob, role="supervisor")
        admin = factories.staff(lob, role="admin")
        auditor = factories.staff(lob, role="auditor")
        other_lob = factories.line_of_business("Corporate")
        other_topic = factories.topic(other_lob, "Treasury")
        outsider = factories.staff(other_lob)
        queue = queue_default_ensure(lob.id)  # where the line's conversations wait; the agents serve it
        queue_audience = f"queue:{queue.id}:{channel_web().id}"
        queue2 = Queue.objects.create(line_of_business=lob, name="Mortgages")  # nobody serves it yet
        tag = Tag.objects.create(line_of_business=lob, name="Complaint")
        # A contact of the line's customer base (docs/protocol.md §17).
        contact = Contact.objects.create(line_of_business=lob, first_name="Jan", last_name="Kowalski",
                                         email="jan.kowalski@example.com", created_by="Test")

    return World


class LiveServer:
    """The real ASGI application under uvicorn in a thread of the test process, sharing
    its test database (a file) and settings."""

    def __init__(self):
        from branchline.asgi import application

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=self.port,
                                                    lifespan="on", log_level="warning", ws_max_size=1048576,
                                                    ws_per_message_deflate=False, proxy_headers=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("live server did not start")
            time.sleep(0.02)
        return self

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/ws"


@pytest.fixture(scope="session")
def live_server_session(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        server = LiveServer().start()
    yield server
    server.stop()


@pytest.fixture
def live(live_server_session, transactional_db):
    return live_server_session


@pytest.fixture(autouse=True)
def _writes_only_in_actions(request):
    """Fails a test during which Branchline code wrote to the database outside an actions
    module (house rule 1). Watches this thread's connection: in-process tests."""
    from django.db import connection

    from tests.support.write_guard import WriteGuard

    guard = WriteGuard()
    with connection.execute_wrapper(guard):
        yield
    assert not guard.violations, f"database writes outside actions modules: {guard.violations}"


@pytest.fixture(autouse=True)
def _server_language():
    """Each test starts in the server's language: a request through Django's test client leaves
    its reader's language active in this thread (a real request's dies with its context)."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit budgets live in the cache: each test starts with full buckets."""
    from django.core.cache import cache

    cache.clear()
