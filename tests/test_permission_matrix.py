"""The permission matrix: every action on a conversation, as every kind of principal.

Generated from the permission model's list of actions (a new action without a row here
fails `test_every_action_has_a_row`). Each cell runs the real entry point and asserts the
outcome; every refused cell also asserts that nothing changed in the database and that no
event was published. Anonymous callers are covered at the HTTP layer
(`test_every_staff_route_needs_a_session`)."""
import json

import pytest
from django.test import Client

from branchline.accounts.permissions import Action
from branchline.cases.models import Case, CaseHandler
from branchline.contacts.models import Customer
from branchline.conversations import actions, selectors
from branchline.conversations.models import Conversation, Message, Participant
from branchline.core.errors import DomainError
from tests import factories
from tests.factories import principal

pytestmark = pytest.mark.django_db

PRINCIPALS = ["other_customer", "customer", "outsider", "agent2", "assigned", "supervisor", "admin", "auditor"]


def _send(p, cid, world):
    if p.is_customer:
        return actions.customer_message_send(principal=p, body="Hi", client_message_id="m-x")
    return actions.staff_message_send(principal=p, conversation_id=cid, body="Hi", client_message_id="m-x")


ENTRY_POINTS = {
    Action.VIEW: lambda p, cid, w: selectors.access_conversation(p, cid),
    Action.ACCEPT: lambda p, cid, w: actions.conversation_accept(principal=p, conversation_id=cid),
    Action.SEND: _send,
    Action.NOTE: lambda p, cid, w: actions.staff_message_send(principal=p, conversation_id=cid, body="Note",
                                                              client_message_id="n-x", visibility="staff"),
    Action.END: lambda p, cid, w: actions.conversation_end(principal=p, conversation_id=cid),
    Action.RELEASE: lambda p, cid, w: actions.conversation_release(principal=p, conversation_id=cid),
    Action.TRANSFER: lambda p, cid, w: actions.conversation_transfer(principal=p, conversation_id=cid,
                                                                     to_user_id=w.agent2.id, note="For you"),
    Action.JOIN: lambda p, cid, w: actions.conversation_join(principal=p, conversation_id=cid),
    Action.RECEIPT: lambda p, cid, w: actions.receipt_update(principal=p, conversation_id=cid, read_seq=1),
    Action.TYPING: lambda p, cid, w: actions.typing_signal(principal=p, conversation_id=cid, is_typing=True),
    Action.TOPIC: lambda p, cid, w: actions.conversation_topic_set(principal=p, conversation_id=cid,
                                                                   topic_id=w.loans.id),
    # The matrix's customer is a guest: whoever may continue hears why not (tests/test_cases.py
    # covers the signed-in customer and the states).
    Action.CONTINUE: lambda p, cid, w: actions.conversation_continue(principal=p, conversation_id=cid,
                                                                     topic_id=w.topic.id, body="Hello again"),
    Action.QUEUE: lambda p, cid, w: actions.conversation_queue_set(principal=p, conversation_id=cid,
                                                                   queue_id=w.queue2.id, note="Mortgage question"),
    Action.REJECT: lambda p, cid, w: actions.conversation_reject(principal=p, conversation_id=cid, rejection="spam"),
    Action.BAR: lambda p, cid, w: actions.customer_bar(principal=p, conversation_id=cid, reason="Abusive language"),
    Action.TAG: lambda p, cid, w: actions.conversation_tag_set(principal=p, conversation_id=cid, tag_id=w.tag.id),
    Action.RELATE: lambda p, cid, w: actions.customer_contact_relate(principal=p, conversation_id=cid,
                                                                     contact_id=w.contact.id),
}

# An active conversation of the line of business, handled by `assigned`.
# ok | status | status:code | n/a (a customer's send names no conversation: it is always their own)
ACTIVE = {
    #                  other_c  customer          outsider agent2               assigned                supervisor                  admin                    auditor
    Action.VIEW:     ["404",   "ok",             "404",   "404",               "ok",                   "ok",                       "ok",                    "ok"],
    Action.ACCEPT:   ["404",   "403:staff_only", "404",   "409:already_taken", "ok",                   "409:already_taken",        "403:role_read_only",    "403:role_read_only"],
    Action.SEND:     ["n/a",   "ok",             "404",   "404",               "ok",                   "403:not_a_participant",    "403:role_read_only",    "403:role_read_only"],
    Action.NOTE:     ["404",   "404",            "404",   "404",               "ok",                   "403:not_a_participant",    "403:role_read_only",    "403:role_read_only"],
    Action.END:      ["404",   "403:staff_only", "404",   "404",               "ok",                   "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.RELEASE:  ["404",   "403:staff_only", "404",   "404",               "ok",                   "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.TRANSFER: ["404",   "403:staff_only", "404",   "404",               "ok",                   "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.JOIN:     ["404",   "403:staff_only", "404",   "404",               "403:supervisor_only",  "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.RECEIPT:  ["404",   "ok",             "404",   "404",               "ok",                   "403:not_a_participant",    "403:role_read_only",    "403:role_read_only"],
    Action.TYPING:   ["404",   "ok",             "404",   "404",               "ok",                   "403:not_a_participant",    "403:role_read_only",    "403:role_read_only"],
    Action.TOPIC:    ["404",   "403:staff_only", "404",   "404",               "ok",                   "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.CONTINUE: ["404",   "403:staff_only", "404",   "404",               "403:customer_not_authenticated", "403:customer_not_authenticated", "403:role_read_only", "403:role_read_only"],
    Action.QUEUE:    ["404",   "403:staff_only", "404",   "404",               "ok",                   "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.REJECT:   ["404",   "403:staff_only", "404",   "404",               "ok",                   "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.BAR:      ["404",   "403:staff_only", "404",   "404",               "ok",                   "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.TAG:      ["404",   "403:staff_only", "404",   "404",               "ok",                   "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.RELATE:   ["404",   "403:staff_only", "404",   "404",               "ok",                   "ok",                       "403:role_read_only",    "403:role_read_only"],
}
# The same conversation while it waits in the queue.
WAITING = {
    Action.VIEW:     ["404",   "ok",             "404",   "ok",                "ok",                   "ok",                       "ok",                    "ok"],
    Action.ACCEPT:   ["404",   "403:staff_only", "404",   "ok",                "ok",                   "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.SEND:     ["n/a",   "ok",             "404",   "403:not_a_participant", "403:not_a_participant", "403:not_a_participant", "403:role_read_only", "403:role_read_only"],
    Action.NOTE:     ["404",   "404",            "404",   "403:not_a_participant", "403:not_a_participant", "403:not_a_participant", "403:role_read_only", "403:role_read_only"],
    Action.END:      ["404",   "403:staff_only", "404",   "403:not_assigned",  "403:not_assigned",     "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.RELEASE:  ["404",   "403:staff_only", "404",   "403:not_assigned",  "403:not_assigned",     "409:conversation_not_active", "403:role_read_only", "403:role_read_only"],
    Action.TRANSFER: ["404",   "403:staff_only", "404",   "403:not_assigned",  "403:not_assigned",     "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.JOIN:     ["404",   "403:staff_only", "404",   "403:supervisor_only", "403:supervisor_only", "ok",                      "403:role_read_only",    "403:role_read_only"],
    Action.RECEIPT:  ["404",   "ok",             "404",   "403:not_a_participant", "403:not_a_participant", "403:not_a_participant", "403:role_read_only", "403:role_read_only"],
    Action.TYPING:   ["404",   "ok",             "404",   "403:not_a_participant", "403:not_a_participant", "403:not_a_participant", "403:role_read_only", "403:role_read_only"],
    Action.TOPIC:    ["404",   "403:staff_only", "404",   "403:not_assigned",  "403:not_assigned",     "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.CONTINUE: ["404",   "403:staff_only", "404",   "403:customer_not_authenticated", "403:customer_not_authenticated", "403:customer_not_authenticated", "403:role_read_only", "403:role_read_only"],
    # Whoever may take it from its queue (tests/test_queues.py: an agent who does not serve it
    # sees nothing of it).
    Action.QUEUE:    ["404",   "403:staff_only", "404",   "ok",                "ok",                   "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.REJECT:   ["404",   "403:staff_only", "404",   "ok",                "ok",                   "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.BAR:      ["404",   "403:staff_only", "404",   "ok",                "ok",                   "ok",                       "403:role_read_only",    "403:role_read_only"],
    Action.TAG:      ["404",   "403:staff_only", "404",   "403:not_a_participant", "403:not_a_participant", "ok",              "403:role_read_only",    "403:role_read_only"],
    Action.RELATE:   ["404",   "403:staff_only", "404",   "403:not_a_participant", "403:not_a_participant", "ok",              "403:role_read_only",    "403:role_read_only"],
}


def test_every_action_has_a_row():
    assert set(ENTRY_POINTS) == set(ACTIVE) == set(WAITING) == set(Action)
    assert all(len(row) == len(PRINCIPALS) for row in [*ACTIVE.values(), *WAITING.values()])


def _snapshot():
    return (list(Conversation.objects.order_by("pk").values()), list(Message.objects.order_by("pk").values()),
            list(Participant.objects.order_by("pk").values()), list(Case.objects.order_by("pk").values()),
            list(CaseHandler.objects.order_by("pk").values()), list(Customer.objects.order_by("pk").values()),
            list(Conversation.tags.through.objects.order_by("pk").values()))


def _principals(world, customer):
    return {"other_customer": principal(factories.customer()), "customer": principal(customer),
            "outsider": principal(world.outsider), "agent2": principal(world.agent2),
            "assigned": principal(world.agent), "supervisor": principal(world.supervisor),
            "admin": principal(world.admin), "auditor": principal(world.auditor)}


def _cells(table):
    return [pytest.param(action, who, table[action][i], id=f"{action.value}-{who}")
            for action in table for i, who in enumerate(PRINCIPALS) if table[action][i] != "n/a"]


def _run(world, capture_events, action, who, expected, *, accepted: bool):
    customer = factories.customer()
    first, _ = actions.customer_message_send(principal=principal(customer), body="Hello", client_message_id="c1",
                                             topic_id=world.topic.id)
    cid = first.conversation_id
    if accepted:
        actions.conversation_accept(principal=principal(world.agent), conversation_id=cid)
    actor = _principals(world, customer)[who]
    before = _snapshot()
    with capture_events() as events:
        try:
            ENTRY_POINTS[action](actor, cid, world)
            outcome = "ok"
        except DomainError as error:
            outcome = f"{error.status}:{error.code}" if ":" in expected else str(error.status)
    assert outcome == expected
    if outcome != "ok":
        assert _snapshot() == before, "a refused action changed the database"
        assert events == [], "a refused action published events"


@pytest.mark.parametrize("action,who,expected", _cells(ACTIVE))
def test_active_conversation(world, capture_events, action, who, expected):
    _run(world, capture_events, action, who, expected, accepted=True)


@pytest.mark.parametrize("action,who,expected", _cells(WAITING))
def test_waiting_conversation(world, capture_events, action, who, expected):
    _run(world, capture_events, action, who, expected, accepted=False)


# Before a session exists (the second-factor steps answer 401 password_first without a pending sign-in:
# tests/test_second_factor.py).
SIGN_IN_ROUTES = {"/api/staff/session", "/api/staff/csrf", "/api/staff/session/totp-enrolment",
                  "/api/staff/session/passkey-options",
                  "/api/staff/session/second-factor"}


def _staff_routes():
    from branchline.api import api

    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path.startswith(("/api/staff/", "/api/admin/")) and path not in SIGN_IN_ROUTES:
                yield method, path.replace("{conversation_id}", "1").replace("{surface}", "widget").replace(
                    "{token_id}", "1")


@pytest.mark.parametrize("method,path", list(_staff_routes()))
def test_every_staff_route_needs_a_session(db, client, method, path):
    response = getattr(client, method)(path, content_type="application/json")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


# A valid body for each admin route that takes one: the refusal must come from the role, not the body.
ADMIN_BODIES = {("put", "/api/admin/ip-allow-lists/widget"): {"networks": []},
                ("post", "/api/admin/api-tokens"): {"name": "SIEM", "scopes": ["audit:read"]},
                ("put", "/api/admin/sso-claims"): {"claims": []},
                ("put", "/api/admin/audit-retention"): {"retention_days": None}}


@pytest.mark.parametrize("method,path", [(m, p) for m, p in _staff_routes() if p.startswith("/api/admin/")])
@pytest.mark.parametrize("role", ["agent", "supervisor", "auditor"])
def test_every_admin_route_refuses_other_roles(world, method, path, role):
    user = factories.staff(world.lob, role=role)
    client = factories.staff_browser(user)
    body = json.dumps(ADMIN_BODIES.get((method, path), {})) if method in ("put", "post") else None
    response = getattr(client, method)(path, body, content_type="application/json", HTTP_X_CSRFTOKEN=client.csrf)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "role_forbidden")


def _administration_pages():
    from branchline.urls import administration

    for model in administration._registry:
        meta = model._meta
        yield f"/admin/{meta.app_label}/{meta.model_name}/"
        yield f"/admin/{meta.app_label}/{meta.model_name}/add/"
    yield "/admin/"


@pytest.mark.parametrize("path", list(_administration_pages()))
@pytest.mark.parametrize("role", ["agent", "supervisor", "auditor", None])
def test_every_administration_page_refuses_everyone_but_administrators(world, path, role):
    """Administrators' own scope is tested page by page in tests/test_administration.py."""
    client = factories.staff_browser(factories.staff(world.lob, role=role)) if role else Client()
    response = client.get(path, follow=True)
    expected = 403 if role else 200  # signed in: told it is not for them; not signed in: the sign-in page
    assert response.status_code == expected
    assert (response.redirect_chain[-1][0].startswith("/console/login/") if role is None
            else b"Only administrators" in response.content)
    admin = factories.staff_browser(world.admin)
    assert admin.get(path).status_code in (200, 403)  # 403: a line's administrator adds no line or channel
