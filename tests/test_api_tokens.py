"""Technical accounts: an administrator issues an integration's token (owner, scopes,
expiry), sees its secret once, rotates and revokes it; the integration reads the audit
trail with it. Every change and every use is audited; an expired, revoked or rotated-out
token, or one without the scope, is refused."""
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from branchline.accounts.actions import tokens
from branchline.accounts.models import ApiToken, token_digest
from branchline.audit.models import AuditChain, AuditRecord
from tests import factories
from tests.support.tasks import run_tasks

pytestmark = pytest.mark.django_db(transaction=True)

AUDIT = "/api/integrations/audit-records"


def _admin(world):
    return factories.staff_browser(world.admin)


def _create(client, **body):
    payload = {"name": "SIEM export", "scopes": ["audit:read"], **body}
    return client.post("/api/admin/api-tokens", json.dumps(payload), content_type="application/json",
                       HTTP_X_CSRFTOKEN=client.csrf)


def _call(secret, path=AUDIT):
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_an_administrator_issues_a_token_whose_secret_is_shown_once_and_stored_as_a_digest(world):
    admin = _admin(world)
    response = _create(admin, expires_in_days=30)
    assert response.status_code == 201, response.content
    issued = response.json()
    secret = issued["token"]
    assert secret.startswith("blt_") and len(secret) > 40
    assert issued["prefix"] == secret[:12] and issued["owner"] == world.admin.display_name
    stored = ApiToken.objects.get(pk=issued["id"])
    assert stored.token_hash == token_digest(secret) and secret not in json.dumps(list(ApiToken.objects.values()),
                                                                                  default=str)
    assert timedelta(days=29) < stored.expires_at - timezone.now() <= timedelta(days=30)
    listed = admin.get("/api/admin/api-tokens").json()
    assert [t["id"] for t in listed] == [issued["id"]] and "token" not in listed[0]


def test_the_integration_reads_the_audit_trail_and_every_use_is_audited(world):
    admin = _admin(world)
    secret = _create(admin).json()["token"]
    run_tasks()
    first = _call(secret)
    assert first.status_code == 200, first.content
    page = first.json()
    assert [r["event"] for r in page["records"]] == ["api_token.created"]
    assert page["records"][0]["hash"] and page["last_seq"] == page["records"][0]["seq"]
    run_tasks()
    again = _call(secret).json()  # the same page again: now with the first use in it
    run_tasks()
    uses = AuditRecord.objects.filter(event="api_token.used")
    assert uses.count() == 2
    assert {(u.actor_kind, u.data["path"], u.data["method"]) for u in uses} == {("integration", AUDIT, "GET")}
    assert "api_token.used" in [r["event"] for r in again["records"]]
    assert ApiToken.objects.get().last_used_at is not None
    after_all = _call(secret, f"{AUDIT}?after_seq={AuditRecord.objects.latest('seq').seq}").json()
    assert after_all["records"] == []  # nothing after the last one (this call's own use is recorded later)
    # Once the retention pruned the start of the trail, asking from before it is a gap the SIEM must see.
    AuditChain.objects.filter(pk=1).update(start_seq=2)
    gap = _call(secret, f"{AUDIT}?after_seq=1")
    assert (gap.status_code, gap.json()["error"]["code"]) == (410, "pruned")
    assert _call(secret, f"{AUDIT}?after_seq=2").status_code == 200


@pytest.mark.parametrize("spoil", ["revoked", "expired", "unknown", "not-ours", "customer-token"])
def test_a_token_that_is_not_in_force_is_refused(world, spoil):
    admin = _admin(world)
    issued = _create(admin).json()
    secret = issued["token"]
    if spoil == "revoked":
        assert admin.delete(f"/api/admin/api-tokens/{issued['id']}", HTTP_X_CSRFTOKEN=admin.csrf).status_code == 200
    elif spoil == "expired":
        ApiToken.objects.filter(pk=issued["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif spoil == "unknown":
        secret = "blt_" + "x" * 43
    elif spoil == "not-ours":
        secret = secret[4:]  # no prefix
    else:
        secret = factories.customer_with_token()[1]
    response = _call(secret)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized")
    _call(secret)  # again: recorded once a minute, not per call
    run_tasks()
    refused = list(AuditRecord.objects.filter(event="api_token.refused").values_list("data", flat=True))
    assert [r["reason"] for r in refused] == (["not_in_force"] if spoil in ("revoked", "expired") else [])


def test_rotation_gives_a_new_secret_and_ends_the_old_one_after_the_grace(world):
    admin = _admin(world)
    issued = _create(admin).json()
    now_ended = admin.post(f"/api/admin/api-tokens/{issued['id']}/rotate", "{}", content_type="application/json",
                           HTTP_X_CSRFTOKEN=admin.csrf)
    assert now_ended.status_code == 201
    rotated = now_ended.json()
    assert rotated["token"] != issued["token"] and rotated["rotated_from"] == issued["id"]
    assert (rotated["name"], rotated["scopes"]) == (issued["name"], issued["scopes"])
    assert _call(issued["token"]).status_code == 401
    assert _call(rotated["token"]).status_code == 200

    with_grace = admin.post(f"/api/admin/api-tokens/{rotated['id']}/rotate", json.dumps({"grace_hours": 24}),
                            content_type="application/json", HTTP_X_CSRFTOKEN=admin.csrf).json()
    assert _call(rotated["token"]).status_code == 200  # still, for the grace period
    assert _call(with_grace["token"]).status_code == 200
    twice = admin.post(f"/api/admin/api-tokens/{rotated['id']}/rotate", "{}", content_type="application/json",
                       HTTP_X_CSRFTOKEN=admin.csrf)
    assert (twice.status_code, twice.json()["error"]["code"]) == (422, "api_token_not_active")
    run_tasks()
    assert AuditRecord.objects.filter(event="api_token.rotated").count() == 2


def test_a_token_without_the_scope_is_refused_with_403(world, monkeypatch):
    monkeypatch.setitem(tokens.SCOPES, "cases:read", "Read cases")
    secret = _create(_admin(world), scopes=["cases:read"]).json()["token"]
    response = _call(secret)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "scope_missing")
    run_tasks()
    assert AuditRecord.objects.get(event="api_token.refused").data["reason"] == "scope_missing"


@pytest.mark.parametrize("body,code", [
    ({"scopes": ["everything"]}, "scopes_invalid"),
    ({"scopes": []}, "scopes_invalid"),
    ({"expires_in_days": 0}, "expiry_invalid"),
    ({"expires_in_days": 366}, "expiry_invalid"),
    ({"name": "  "}, "name_invalid"),
])
def test_bad_input_gets_a_clear_error_and_creates_nothing(world, body, code):
    response = _create(_admin(world), **body)
    assert (response.status_code, response.json()["error"]["code"]) == (422, code)
    assert not ApiToken.objects.exists()


def test_administrators_manage_only_their_line_of_business_tokens(world):
    mine = _create(_admin(world)).json()
    other_admin = factories.staff(world.other_lob, role="admin")
    theirs = factories.staff_browser(other_admin)
    assert theirs.get("/api/admin/api-tokens").json() == []
    for method, path in (("delete", f"/api/admin/api-tokens/{mine['id']}"),
                         ("post", f"/api/admin/api-tokens/{mine['id']}/rotate")):
        response = getattr(theirs, method)(path, "{}", content_type="application/json", HTTP_X_CSRFTOKEN=theirs.csrf)
        assert response.status_code == 404
    # Nor can they make someone else's staff the owner.
    foreign = _create(theirs, owner_id=world.agent.id)
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (404, "owner_not_found")
    assert _call(mine["token"]).status_code == 200


def test_a_token_cannot_act_as_staff_or_customer(world):
    secret = _create(_admin(world)).json()["token"]
    for path in ("/api/staff/me", "/api/customer/me", "/api/admin/api-tokens"):
        assert Client().get(path, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_a_token_stops_when_its_owner_leaves(world):
    admin = _admin(world)
    secret = _create(admin, owner_id=world.agent.id).json()["token"]
    assert _call(secret).status_code == 200
    world.agent.is_active = False
    world.agent.save(update_fields=["is_active"])
    assert _call(secret).status_code == 401


def test_the_line_of_business_keeps_its_tokens_when_the_owner_moves(world):
    admin = _admin(world)
    issued = _create(admin, owner_id=world.agent.id).json()
    world.agent.line_of_business = world.other_lob
    world.agent.save(update_fields=["line_of_business"])
    assert [t["id"] for t in admin.get("/api/admin/api-tokens").json()] == [issued["id"]]
    assert admin.delete(f"/api/admin/api-tokens/{issued['id']}", HTTP_X_CSRFTOKEN=admin.csrf).status_code == 200


def test_an_administrator_without_a_line_of_business_manages_no_tokens(world):
    loose = factories.staff(world.lob, role="admin")
    loose.line_of_business = None
    loose.save(update_fields=["line_of_business"])
    client = factories.staff_browser(loose)
    for response in (client.get("/api/admin/api-tokens"), _create(client)):
        assert (response.status_code, response.json()["error"]["code"]) == (403, "line_of_business_required")
    assert not ApiToken.objects.exists()
