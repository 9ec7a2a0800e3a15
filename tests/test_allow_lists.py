"""IP allow-lists per surface: set by administrators (API and, as a way back in,
`manage.py ip_allow_list`), enforced on every HTTP request and socket of that surface with a
403 `ip_not_allowed` and an audit record; the client's address as core/http.py resolves it."""
import ipaddress
import json
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from django.test import Client, override_settings
from django_tasks_db.models import DBTaskResult

from branchline.accounts import allow_lists
from branchline.accounts.actions import access_refused
from branchline.accounts.allow_lists import Surface, address_allowed, parse_networks, surface_of_path
from branchline.accounts.models import IpAllowList, Role
from branchline.audit.models import AuditRecord
from tests import factories
from tests.support.tasks import run_tasks

pytestmark = pytest.mark.django_db
ADMIN_ADDRESS = "127.0.0.1"  # the test client's


@pytest.fixture
def admin(world):
    return factories.staff_browser(factories.staff(world.lob, role=Role.ADMIN))


def _put(client, surface, networks, **extra):
    return client.put(f"/api/admin/ip-allow-lists/{surface}", json.dumps({"networks": networks}),
                      content_type="application/json", HTTP_X_CSRFTOKEN=client.csrf, **extra)


def _customer_page(address, **extra):
    _c, token = factories.customer_with_token()
    return Client().get("/api/customer/me", HTTP_AUTHORIZATION=f"Bearer {token}", REMOTE_ADDR=address, **extra)


def test_paths_belong_to_surfaces():
    assert [surface_of_path(p) for p in ("/api/customer/me", "/chat/", "/api/staff/conversations", "/console/",
                                         "/api/admin/ip-allow-lists", "/admin/accounts/user/", "/static/console/console.js",
                                         "/healthz")] == [
        Surface.WIDGET, Surface.WIDGET, Surface.CONSOLE, Surface.CONSOLE, Surface.ADMIN, Surface.ADMIN, None, None]
    assert parse_networks([" 10.20.0.1/16", "192.0.2.7", "2001:db8::/32"]) == ["10.20.0.0/16", "192.0.2.7/32",
                                                                                  "2001:db8::/32"]
    assert address_allowed([], "203.0.113.1") and not address_allowed(["10.0.0.0/8"], "not-an-address")


@pytest.mark.django_db(transaction=True)  # the task worker closes its connection
def test_an_administrator_sets_a_list_and_outsiders_get_403_with_an_audit_record(admin):
    assert _put(admin, "widget", ["10.20.0.0/16"]).json() == {"surface": "widget", "networks": ["10.20.0.0/16"]}
    assert admin.get("/api/admin/ip-allow-lists").json()["surfaces"] == {
        "widget": ["10.20.0.0/16"], "console": [], "admin": [], "api": []}
    assert _customer_page("10.20.3.4").status_code == 200
    refused = _customer_page("203.0.113.9")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "ip_not_allowed")
    assert Client().get("/chat/", REMOTE_ADDR="203.0.113.9").status_code == 403
    assert Client().get("/healthz", REMOTE_ADDR="203.0.113.9").status_code == 200  # no surface
    run_tasks()
    records = {r.event: r for r in AuditRecord.objects.all()}
    assert records["access.allow_list_changed"].data["networks"] == ["10.20.0.0/16"]
    assert records["access.allow_list_changed"].actor_kind == "staff"
    refusal = records["access.refused"]
    assert (refusal.address, refusal.data["surface"], refusal.data["path"]) == ("203.0.113.9", "widget",
                                                                                "/api/customer/me")
    # The second refusal of that address within the minute (the /chat/ page) is not recorded again.
    assert AuditRecord.objects.filter(event="access.refused").count() == 1


def test_refusals_from_many_addresses_are_recorded_up_to_a_cap(world, settings):
    """An IPv6 /64 is one address; past the per-surface cap nothing more is written."""
    settings.BRANCHLINE = {**settings.BRANCHLINE, "REFUSALS_RECORDED_PER_MINUTE": 3}
    for n in range(5):
        access_refused(surface="widget", address=f"2001:db8::{n}", path="/chat/")  # one /64
    for n in range(6):
        access_refused(surface="widget", address=f"203.0.113.{n}", path="/chat/")
    assert DBTaskResult.objects.count() == 3  # one for the /64, then two addresses, then the cap


def test_behind_a_trusted_proxy_the_forwarded_address_decides(admin):
    _put(admin, "widget", ["198.51.100.0/24"])
    with override_settings(TRUSTED_PROXIES=parse_networks_as_objects(["10.0.0.5"])):
        assert _customer_page("10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 200
        assert _customer_page("10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    # From an untrusted peer the header is ignored: the peer itself is outside.
    assert _customer_page("203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 403


def parse_networks_as_objects(values):
    return [ipaddress.ip_network(v) for v in values]


def test_only_administrators_set_lists(world):
    agent = factories.staff_browser(world.agent)
    answer = _put(agent, "widget", ["10.0.0.0/8"])
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "role_forbidden")
    assert agent.get("/api/admin/ip-allow-lists").status_code == 403
    assert not IpAllowList.objects.exists()


@pytest.mark.parametrize(("surface", "networks", "code"), [
    ("lobby", ["10.0.0.0/8"], "surface_invalid"),
    ("widget", ["10.0.0.0/33"], "networks_invalid"),
    ("widget", ["not a network"], "networks_invalid"),
    ("console", ["10.0.0.0/8"], "would_lock_you_out"),  # the administrator is on 127.0.0.1
    ("admin", ["10.0.0.0/8"], "would_lock_you_out"),
])
def test_bad_lists_are_refused_and_nothing_changes(admin, surface, networks, code):
    answer = _put(admin, surface, networks)
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, code)
    assert not IpAllowList.objects.exists()


def test_a_console_list_that_keeps_the_administrator_in_is_enforced_for_others(admin, world):
    assert _put(admin, "console", [f"{ADMIN_ADDRESS}/32"]).status_code == 200
    assert admin.get("/api/staff/me").status_code == 200
    outsider = Client().get("/api/staff/me", REMOTE_ADDR="203.0.113.9")
    assert (outsider.status_code, outsider.json()["error"]["code"]) == (403, "ip_not_allowed")


@pytest.mark.django_db(transaction=True)  # the task worker closes its connection
def test_the_shell_command_is_the_way_back_in(world, capsys):
    IpAllowList.objects.create(surface="console", networks=["10.99.0.0/16"])
    call_command("ip_allow_list")
    assert "console: 10.99.0.0/16" in capsys.readouterr().out
    call_command("ip_allow_list", "console", "--open")
    assert IpAllowList.objects.get(surface="console").networks == []
    with pytest.raises(CommandError, match="Not an address or network"):
        call_command("ip_allow_list", "widget", "nonsense")
    run_tasks()
    changed = AuditRecord.objects.get(event="access.allow_list_changed")
    assert (changed.actor_kind, changed.data["previous"], changed.data["networks"]) == ("system", ["10.99.0.0/16"], [])


def test_a_changed_list_reaches_a_process_within_its_cache_time(settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "ALLOW_LISTS_CACHE_SECONDS": 0.2}
    allow_lists.cache.forget()
    assert allow_lists.allowed(Surface.WIDGET, "203.0.113.9")
    IpAllowList.objects.create(surface="widget", networks=["10.0.0.0/8"])
    assert allow_lists.allowed(Surface.WIDGET, "203.0.113.9")  # read a moment ago
    time.sleep(0.25)
    assert not allow_lists.allowed(Surface.WIDGET, "203.0.113.9")


def test_a_database_that_is_away_neither_opens_the_lists_nor_answers_500(world, monkeypatch):
    """Lists read before stay in force; with none read yet the answer is 503, not 500; a
    refusal that cannot be recorded is still a refusal."""
    IpAllowList.objects.create(surface="widget", networks=["10.0.0.0/8"])
    allow_lists.cache.forget()
    assert allow_lists.allowed(Surface.WIDGET, "10.1.1.1")  # read once

    def away():
        raise OperationalError("the database is away")

    monkeypatch.setattr(allow_lists, "stored", away)
    monkeypatch.setattr("branchline.accounts.actions.publish", lambda event: away())
    refused = _customer_page("203.0.113.9")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "ip_not_allowed")
    allow_lists.cache.forget()  # as in a process that has not read them yet
    busy = Client().get("/api/customer/me", REMOTE_ADDR="203.0.113.9")
    assert (busy.status_code, busy.json()["error"]["code"], busy["Retry-After"]) == (503, "unavailable", "1")
    assert Client().get("/chat/", REMOTE_ADDR="203.0.113.9").status_code == 503
