"""The JSON API as a client sees it: shapes, errors, permissions, paging."""
import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from branchline.accounts.models import CustomerSession
from branchline.conversations import actions
from branchline.conversations.models import Message
from tests import factories
from tests.factories import PASSWORD, principal
from tests.support.servers import ROOT, SRC, TEST_AUDIT_KEY, TEST_SECRET_KEY

pytestmark = pytest.mark.django_db


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def post(client, path, body=None, **extra):
    return client.post(path, json.dumps(body) if body is not None else "", content_type="application/json", **extra)


staff_client = factories.staff_browser


def staff_post(client, path, body=None):
    return post(client, path, body, HTTP_X_CSRFTOKEN=client.csrf)


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


def test_a_guest_chats_from_session_to_message(world, client):
    response = post(client, "/api/customer/sessions/anonymous")
    assert response.status_code == 201
    session = response.json()
    assert session["customer"] == {"id": session["customer"]["id"], "name": "Customer", "authenticated": False}
    topics = client.get("/api/topics").json()
    assert {"Cards", "Treasury"} <= {t["name"] for t in topics}
    body = {"body": "  My card is blocked  ", "client_message_id": "m-1", "topic_id": world.topic.id}
    sent = post(client, "/api/customer/messages", body, **bearer(session["token"]))
    assert sent.status_code == 201
    message = sent.json()["message"]
    assert (message["text"], message["seq"], message["sender"], sent.json()["duplicate"]) == (
        "My card is blocked", 1, "customer", False)
    again = post(client, "/api/customer/messages", body, **bearer(session["token"]))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["message"]["id"] == message["id"] and Message.objects.count() == 1
    me = client.get("/api/customer/me", **bearer(session["token"])).json()
    assert me["conversation"]["state"] == "waiting" and me["conversation"]["topic"]["name"] == "Cards"


def test_a_guest_writing_over_http_counts_as_present(world, client):
    from branchline.contacts.models import Customer

    guest, token = factories.customer_with_token()
    Customer.objects.filter(pk=guest.pk).update(last_seen_at=timezone.now() - timedelta(hours=1))
    post(client, "/api/customer/messages", {"body": "hi", "client_message_id": "h1", "topic_id": world.topic.id},
         **bearer(token))
    assert actions.conversations_end_abandoned(grace_seconds=60) == 0
    assert Customer.objects.get(pk=guest.pk).last_seen_at > timezone.now() - timedelta(seconds=60)


def test_an_authenticated_customer_pages_back_to_the_very_first_message(world, client):
    customer, token = factories.customer_with_token(authenticated=True)
    me, agent = principal(customer), principal(world.agent)
    sent = []
    for round_ in range(3):  # three conversations, 25 messages each
        for n in range(25):
            m, _ = actions.customer_message_send(principal=me, body=f"r{round_} m{n}", client_message_id=f"{round_}-{n}",
                                                 topic_id=world.topic.id)
            sent.append(m.id)
            if n == 0:
                actions.conversation_accept(principal=agent, conversation_id=m.conversation_id)
        actions.conversation_end(principal=agent, conversation_id=m.conversation_id)
    seen, before = [], None
    for _ in range(20):
        query = {"limit": 30, **({"before_id": before} if before else {})}
        page = client.get("/api/customer/messages", query, **bearer(token)).json()
        ids = [m["id"] for m in page["messages"]]
        assert ids == sorted(ids)
        seen = ids + seen
        if not page["has_more"]:
            break
        before = ids[0]
    assert seen == sorted(Message.objects.filter(customer=customer).values_list("id", flat=True))
    assert set(sent) <= set(seen) and Message.objects.get(pk=seen[0]).body == "r0 m0"


def test_unread_counts_what_the_bank_wrote_since_the_customer_last_read(world, client):
    customer, token = factories.customer_with_token(authenticated=True)
    m, _ = actions.customer_message_send(principal=principal(customer), body="Hi", client_message_id="c",
                                         topic_id=world.topic.id)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=m.conversation_id)
    actions.staff_message_send(principal=principal(world.agent), conversation_id=m.conversation_id, body="Reply",
                               client_message_id="a")
    assert client.get("/api/customer/me", **bearer(token)).json()["unread_count"] == 2  # joined + reply
    receipt = post(client, f"/api/customer/conversations/{m.conversation_id}/receipt", {"read_seq": 3}, **bearer(token))
    assert receipt.status_code == 200 and receipt.json()["read_seq"] == 3
    assert client.get("/api/customer/me", **bearer(token)).json()["unread_count"] == 0


@pytest.mark.parametrize("headers", [{}, bearer("nope"), {"HTTP_AUTHORIZATION": "Basic abc"}])
def test_customer_calls_need_a_valid_token(client, headers, db):
    assert_error(client.get("/api/customer/me", **headers), 401, "unauthorized")


def test_expired_and_signed_out_tokens_stop_working(client, db):
    customer, token = factories.customer_with_token()
    assert client.get("/api/customer/me", **bearer(token)).status_code == 200
    CustomerSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(client.get("/api/customer/me", **bearer(token)), 401)
    _c, token2 = factories.customer_with_token()
    assert client.delete("/api/customer/session", **bearer(token2)).status_code == 204
    assert_error(client.get("/api/customer/me", **bearer(token2)), 401)


def test_another_customers_conversation_is_not_found(world, client):
    owner, _ = factories.customer_with_token()
    _other, other_token = factories.customer_with_token()
    m, _ = actions.customer_message_send(principal=principal(owner), body="Hi", client_message_id="c",
                                         topic_id=world.topic.id)
    response = post(client, f"/api/customer/conversations/{m.conversation_id}/receipt", {"read_seq": 1},
                    **bearer(other_token))
    assert_error(response, 404, "conversation_not_found")
    assert_error(post(client, "/api/customer/conversations/999999/receipt", {"read_seq": 1}, **bearer(other_token)), 404)
    # and nothing of the owner's leaks into the other's history
    assert client.get("/api/customer/messages", **bearer(other_token)).json()["messages"] == []


@pytest.mark.parametrize("body,status,code", [
    ({"body": "", "client_message_id": "a"}, 422, "message_empty"),
    ({"body": "x" * 4001, "client_message_id": "a"}, 422, "message_too_long"),
    ({"body": "hi", "client_message_id": "bad id!"}, 422, "client_message_id_invalid"),
    ({"body": "hi"}, 422, "invalid"),
    ({"body": "hi", "client_message_id": "a", "topic_id": "cards"}, 422, "invalid"),
    ({"body": "hi", "client_message_id": "a"}, 422, "topic_required"),
    ({"body": "hi", "client_message_id": "a", "topic_id": 987654}, 404, "topic_not_found"),
])
def test_bad_messages_get_clear_errors_and_change_nothing(world, client, body, status, code):
    _c, token = factories.customer_with_token()
    assert_error(post(client, "/api/customer/messages", body, **bearer(token)), status, code)
    assert Message.objects.count() == 0


def test_malformed_json_is_a_clear_error(client, db):
    _c, token = factories.customer_with_token()
    response = client.post("/api/customer/messages", "{not json", content_type="application/json", **bearer(token))
    assert response.status_code in (400, 422) and response.json()["error"]["code"]


def test_everything_under_api_answers_in_the_error_shape(client, db):
    assert_error(client.get("/api/no/such/thing"), 404, "not_found")
    assert_error(client.delete("/api/topics"), 405, "method_not_allowed")
    _c, token = factories.customer_with_token()
    big = json.dumps({"body": "x" * 300_000, "client_message_id": "big"})
    assert_error(client.post("/api/customer/messages", big, content_type="application/json", **bearer(token)), 413,
                 "too_large")


def test_anonymous_sessions_are_budgeted_per_address(client, settings, db):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "ANONYMOUS_SESSIONS_PER_MINUTE": 3}
    assert [post(client, "/api/customer/sessions/anonymous").status_code for _ in range(3)] == [201] * 3
    assert_error(post(client, "/api/customer/sessions/anonymous"), 429, "rate_limited")


def test_password_guessing_is_slowed_down(world, client, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "SIGN_IN_FAILURES_PER_ACCOUNT_AND_ADDRESS": 3}
    for _ in range(3):
        assert_error(post(client, "/api/staff/session", {"username": world.agent.username, "password": "guess"}), 401)
    right = {"username": world.agent.username, "password": PASSWORD}
    assert_error(post(client, "/api/staff/session", right), 429, "rate_limited")
    # another account is not locked out by it
    assert post(client, "/api/staff/session", {"username": world.agent2.username, "password": PASSWORD}).status_code == 200


def test_history_limits_are_checked(client, db):
    _c, token = factories.customer_with_token()
    assert_error(client.get("/api/customer/messages", {"limit": 0}, **bearer(token)), 422, "limit_invalid")
    assert_error(client.get("/api/customer/messages", {"limit": 101}, **bearer(token)), 422, "limit_invalid")


def test_rate_limited_sends_say_when_to_retry(world, client, settings):
    # a long window (burst / rate = 200 s), so the test cannot straddle two windows
    settings.BRANCHLINE = {**settings.BRANCHLINE, "MESSAGE_RATE_PER_SECOND": 0.01, "MESSAGE_RATE_BURST": 2}
    _c, token = factories.customer_with_token()
    for n in range(2):
        post(client, "/api/customer/messages", {"body": "hi", "client_message_id": f"m{n}", "topic_id": world.topic.id},
             **bearer(token))
    response = post(client, "/api/customer/messages", {"body": "hi", "client_message_id": "m9"}, **bearer(token))
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1 and Message.objects.count() == 2


def test_there_is_no_demo_sign_in(client, db):
    """Customers sign in with the bank's provider only: `make demo` runs a real one."""
    customer = factories.customer(authenticated=True)
    assert post(client, "/api/customer/sessions/demo", {"subject": customer.sso_subject}).status_code == 404
    assert client.get("/demo-sso/").status_code == 404


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "branchline.settings.production", "SECRET_KEY": TEST_SECRET_KEY,
           "BRANCHLINE_AUDIT_KEY": TEST_AUDIT_KEY, "PYTHONPATH": str(SRC)}
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["False"]
    env.pop("SECRET_KEY")
    refused = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    assert refused.returncode != 0 and "SECRET_KEY" in refused.stderr


def test_staff_sign_in_and_console_lists(world, client):
    assert_error(post(client, "/api/staff/session", {"username": world.agent.username, "password": "wrong"}), 401,
                 "bad_credentials")
    customer = factories.customer()
    m, _ = actions.customer_message_send(principal=principal(customer), body="Hi", client_message_id="c",
                                         topic_id=world.topic.id)
    agent = staff_client(world.agent)
    waiting = agent.get("/api/staff/conversations", {"state": "waiting"}).json()
    assert [(c["id"], c["unread_count"], c["customer"]["name"]) for c in waiting] == [(m.conversation_id, 1, "Customer")]
    accepted = staff_post(agent, f"/api/staff/conversations/{m.conversation_id}/accept")
    assert accepted.status_code == 200 and accepted.json()["state"] == "active"
    assert_error(staff_post(staff_client(world.agent2), f"/api/staff/conversations/{m.conversation_id}/accept"), 409,
                 "already_taken")
    reply = staff_post(agent, f"/api/staff/conversations/{m.conversation_id}/messages",
                       {"body": "Hello!", "client_message_id": "a-1"})
    assert reply.status_code == 201 and reply.json()["message"]["agent_name"] == world.agent.display_name
    page = agent.get(f"/api/staff/conversations/{m.conversation_id}/messages").json()
    assert [x["sender"] for x in page["messages"]] == ["customer", "system", "agent"]
    read = staff_post(agent, f"/api/staff/conversations/{m.conversation_id}/receipt", {"read_seq": 3})
    assert read.json()["unread_count"] == 0
    ended = staff_post(agent, f"/api/staff/conversations/{m.conversation_id}/end")
    assert ended.json()["state"] == "ended"
    assert [c["id"] for c in agent.get("/api/staff/conversations", {"state": "ended"}).json()] == [m.conversation_id]


def test_staff_writes_need_the_csrf_header(world):
    agent = staff_client(world.agent)
    m, _ = actions.customer_message_send(principal=principal(factories.customer()), body="Hi", client_message_id="c",
                                         topic_id=world.topic.id)
    response = post(agent, f"/api/staff/conversations/{m.conversation_id}/accept")
    assert response.status_code in (401, 403)
    assert Message.objects.count() == 1


def test_permission_matrix_for_a_conversation(world, client):
    """Who can read a waiting conversation and who can write in an active one."""
    owner, owner_token = factories.customer_with_token()
    _other, other_token = factories.customer_with_token()
    m, _ = actions.customer_message_send(principal=principal(owner), body="Hi", client_message_id="c",
                                         topic_id=world.topic.id)
    path = f"/api/staff/conversations/{m.conversation_id}"
    # staff of the line of business see the waiting conversation; others do not
    for user, status in [(world.agent, 200), (world.supervisor, 200), (world.admin, 200), (world.outsider, 404)]:
        assert staff_client(user).get(path).status_code == status, user.role
    # customers cannot use staff endpoints at all
    for token in (owner_token, other_token):
        assert client.get(path, **bearer(token)).status_code == 401
    staff_post(staff_client(world.agent), f"{path}/accept")
    # once taken, it is the handling agent's: colleagues no longer see it
    for user in (world.agent2, world.outsider):
        assert staff_client(user).get(path).status_code == 404
        send = staff_post(staff_client(user), f"{path}/messages", {"body": "x", "client_message_id": "z"})
        assert send.status_code == 404
    assert Message.objects.filter(sender="agent").count() == 0


def test_openapi_document_lists_every_call(client, db):
    schema = client.get("/api/openapi.json").json()
    for path in ["/api/customer/sessions/anonymous", "/api/customer/messages", "/api/customer/me", "/api/topics",
                 "/api/staff/conversations", "/api/staff/conversations/{conversation_id}/accept"]:
        assert path in schema["paths"], path


def test_pages_render_with_security_headers(client, world):
    chat = client.get("/chat/")
    assert chat.status_code == 200
    assert "frame-ancestors 'self'" in chat["Content-Security-Policy"] and "X-Frame-Options" not in chat
    assert b"Chat with your bank" in chat.content
    login = client.get("/console/login/")
    assert login.status_code == 200 and "frame-ancestors 'none'" in login["Content-Security-Policy"]
    assert login["X-Frame-Options"] == "DENY"
    assert client.get("/console/").status_code == 302
    assert client.post("/console/login/", {"username": world.agent.username, "password": "bad"}).status_code == 401
    assert client.post("/console/login/", {"username": world.agent.username, "password": PASSWORD}).status_code == 302
    console = client.get("/console/")
    assert console.status_code == 200 and world.agent.display_name.encode() in console.content
