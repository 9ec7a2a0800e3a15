"""Cases (issue 7, docs/adr/0018): statuses, the topic change, the post-resolve rule,
outbound "Continue conversation", the Cases module's index and timeline, and who may do
what on a case (the permission matrix of every case endpoint)."""
import json

import pytest
from django.test import Client

from branchline.cases.models import Case, CaseHandler, CaseStatus
from branchline.conversations import actions, selectors
from branchline.conversations.models import Conversation, ConversationState, EndReason, Message, SystemCode
from branchline.core.errors import Conflict, Forbidden, NotFound
from tests import factories
from tests.factories import principal

pytestmark = pytest.mark.django_db


def _status(world, name) -> CaseStatus:
    from branchline.cases.actions import case_statuses_ensure

    case_statuses_ensure(world.lob.id)
    return CaseStatus.objects.get(line_of_business=world.lob, name=name)


def _handled(world, customer=None, topic=None, text="Hello"):
    """A conversation of `customer` taken by world.agent: (customer, conversation id, case id)."""
    customer = customer or factories.customer(authenticated=True)
    first, _ = actions.customer_message_send(principal=principal(customer), body=text,
                                             client_message_id=f"c-{Message.objects.count()}",
                                             topic_id=(topic or world.topic).id)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=first.conversation_id)
    return customer, first.conversation_id, Conversation.objects.get(pk=first.conversation_id).case_id


def _say(customer, text):
    message, _ = actions.customer_message_send(principal=principal(customer), body=text,
                                               client_message_id=f"c-{Message.objects.count()}")
    return message


def _staff_codes(conversation_id):
    return [m.system_code for m in Message.objects.filter(conversation_id=conversation_id).order_by("staff_seq")
            if m.system_code]


# --- statuses ------------------------------------------------------------------------------

def test_new_cases_start_in_the_lines_initial_status_and_agents_take_them_on(world):
    _customer, cid, case_id = _handled(world)
    case = Case.objects.select_related("status").get(pk=case_id)
    assert (case.status.name, case.status.is_resolved, case.resolved_at) == ("Open", False, None)
    assert list(CaseHandler.objects.filter(case_id=case_id).values_list("user_id", flat=True)) == [world.agent.id]
    actions.conversation_transfer(principal=principal(world.agent), conversation_id=cid, to_user_id=world.agent2.id)
    assert set(CaseHandler.objects.filter(case_id=case_id).values_list("user_id", flat=True)) == {
        world.agent.id, world.agent2.id}


def test_the_status_changes_in_progress_as_a_staff_only_line_and_event(world, capture_events):
    customer, cid, case_id = _handled(world)
    resolved = _status(world, "Resolved")
    with capture_events() as events:
        actions.case_status_set(principal=principal(world.agent), case_id=case_id, status_id=resolved.id)
    case = Case.objects.get(pk=case_id)
    assert case.status_id == resolved.id and case.resolved_at is not None
    line = Message.objects.get(conversation_id=cid, system_code=SystemCode.CASE_STATUS)
    assert (line.visibility, line.seq, line.body) == ("staff", None, "Resolved")
    assert "set the case's status to Resolved" in line.text()
    # The customer hears nothing of it, not even that something changed; nor does the queue.
    assert [e for e in events if any(a.startswith(("customer:", "queue:")) for a in e["a"])] == []
    assert "case_status" in json.dumps([e["d"] for e in events if e["t"] == "message.created"])
    staff_update = [e for e in events if e["t"] == "conversation.updated" and f"staff:{world.agent.id}" in e["a"]]
    assert staff_update[-1]["d"]["conversation"]["case_status"] == {"id": resolved.id, "name": "Resolved",
                                                                     "resolved": True}
    assert [m.system_code for m in selectors.messages_for_customer_before(customer.id, before_id=None, limit=50)
            if m.system_code] == ["agent_joined"]


def test_after_the_conversation_a_case_changes_status_until_it_is_resolved(world):
    _customer, cid, case_id = _handled(world)
    actions.conversation_end(principal=principal(world.agent), conversation_id=cid)
    waiting, resolved = _status(world, "Waiting for the customer"), _status(world, "Resolved")
    me = principal(world.agent)
    actions.case_status_set(principal=me, case_id=case_id, status_id=waiting.id)
    actions.case_status_set(principal=me, case_id=case_id, status_id=resolved.id)
    with pytest.raises(Conflict) as refused:
        actions.case_status_set(principal=me, case_id=case_id, status_id=waiting.id)
    assert refused.value.code == "case_resolved"
    assert Case.objects.get(pk=case_id).status_id == resolved.id
    assert _staff_codes(cid)[-2:] == ["case_status", "case_status"]


def test_a_status_of_another_line_is_not_found(world):
    _customer, _cid, case_id = _handled(world)
    from branchline.cases.actions import case_statuses_ensure

    foreign = case_statuses_ensure(world.other_lob.id)
    with pytest.raises(NotFound) as refused:
        actions.case_status_set(principal=principal(world.agent), case_id=case_id, status_id=foreign.id)
    assert refused.value.code == "case_status_not_found"


# --- the topic, mid-conversation -----------------------------------------------------------

def test_a_topic_change_moves_the_case_type_and_shows_on_the_timeline_for_staff_only(world):
    customer, cid, case_id = _handled(world)
    actions.conversation_topic_set(principal=principal(world.agent), conversation_id=cid, topic_id=world.loans.id)
    case = Case.objects.get(pk=case_id)
    assert (case.topic_id, case.case_type_id) == (world.loans.id, world.loans.case_type_id)
    assert Conversation.objects.get(pk=cid).topic_id == world.loans.id
    client = Client()
    client.force_login(world.agent)
    timeline = client.get(f"/api/staff/cases/{case_id}/timeline").json()["items"]
    assert [i["system_code"] for i in timeline if i["system_code"]] == ["agent_joined", "topic_changed"]
    assert "changed the topic to Loans" in timeline[-1]["text"]
    assert "topic_changed" not in [m.system_code for m in
                                   selectors.messages_for_customer_before(customer.id, before_id=None, limit=50)]


def test_a_topic_of_another_line_or_after_the_end_is_refused(world):
    _customer, cid, _case = _handled(world)
    with pytest.raises(NotFound):
        actions.conversation_topic_set(principal=principal(world.agent), conversation_id=cid,
                                       topic_id=world.other_topic.id)
    actions.conversation_end(principal=principal(world.agent), conversation_id=cid)
    with pytest.raises(Conflict) as refused:
        actions.conversation_topic_set(principal=principal(world.agent), conversation_id=cid, topic_id=world.loans.id)
    assert refused.value.code == "conversation_ended"


# --- the post-resolve rule ------------------------------------------------------------------

def test_a_thank_you_right_after_resolving_joins_the_resolved_case(world):
    customer, cid, case_id = _handled(world, factories.customer())
    resolved = _status(world, "Resolved")
    actions.case_status_set(principal=principal(world.agent), case_id=case_id, status_id=resolved.id)
    cases_before = Case.objects.count()
    thanks = _say(customer, "Thank you for your help")
    assert thanks.conversation_id == cid
    assert Case.objects.count() == cases_before
    assert Case.objects.get(pk=case_id).status_id == resolved.id  # not reopened


def test_after_the_post_resolve_window_a_message_starts_a_new_conversation_and_case(world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "CASE_POST_RESOLVE_SECONDS": 0}
    customer, cid, case_id = _handled(world, factories.customer())
    resolved = _status(world, "Resolved")
    actions.case_status_set(principal=principal(world.agent), case_id=case_id, status_id=resolved.id)
    later = _say(customer, "Another question")
    old = Conversation.objects.get(pk=cid)
    assert (old.state, old.end_reason) == (ConversationState.ENDED, EndReason.CASE_RESOLVED)
    new = Conversation.objects.get(pk=later.conversation_id)
    assert new.id != cid and new.case_id != case_id and new.topic_id == world.topic.id
    assert new.state == ConversationState.WAITING
    assert Case.objects.get(pk=case_id).status_id == resolved.id


def test_an_open_case_never_starts_anew(world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "CASE_POST_RESOLVE_SECONDS": 0}
    customer, cid, _case_id = _handled(world, factories.customer())
    assert _say(customer, "Still there?").conversation_id == cid


# --- outbound ------------------------------------------------------------------------------

def _ended(world, customer, topic=None):
    customer, cid, case_id = _handled(world, customer, topic)
    actions.conversation_end(principal=principal(world.agent), conversation_id=cid)
    return cid, case_id


def test_outbound_continues_the_customers_open_case_of_that_type(world, capture_events):
    customer = factories.customer(authenticated=True)
    cid, case_id = _ended(world, customer)
    unread = selectors.customer_unread_count(customer.id)
    with capture_events() as events:
        new = actions.conversation_continue(principal=principal(world.agent), conversation_id=cid,
                                            topic_id=world.topic.id, body="About your card", client_message_id="o-1")
    assert (new.case_id, new.state, new.assigned_agent_id, new.outbound) == (
        case_id, ConversationState.ACTIVE, world.agent.id, True)
    assert _staff_codes(new.id) == ["outbound", "agent_joined"]
    to_customer = [e for e in events if f"customer:{customer.id}" in e["a"]]
    assert [e["t"] for e in to_customer] == ["message.created", "message.created", "conversation.updated"]
    assert to_customer[1]["d"]["message"]["text"] == "About your card"
    assert selectors.customer_unread_count(customer.id) == unread + 2  # "Anna joined", and the message
    # a retry returns the same conversation
    again = actions.conversation_continue(principal=principal(world.agent), conversation_id=cid,
                                          topic_id=world.topic.id, body="About your card", client_message_id="o-1")
    assert again.id == new.id and Conversation.objects.filter(customer=customer).count() == 2


def test_outbound_on_another_case_type_opens_a_new_case(world):
    customer = factories.customer(authenticated=True)
    cid, case_id = _ended(world, customer)
    new = actions.conversation_continue(principal=principal(world.agent), conversation_id=cid,
                                        topic_id=world.loans.id)
    case = Case.objects.get(pk=new.case_id)
    assert case.id != case_id and (case.topic_id, case.case_type_id) == (world.loans.id, world.loans.case_type_id)
    assert CaseHandler.objects.filter(case=case, user=world.agent).exists()


def test_outbound_after_the_case_was_resolved_opens_a_new_case(world):
    customer = factories.customer(authenticated=True)
    cid, case_id = _ended(world, customer)
    actions.case_status_set(principal=principal(world.agent), case_id=case_id,
                            status_id=_status(world, "Resolved").id)
    new = actions.conversation_continue(principal=principal(world.agent), conversation_id=cid,
                                        topic_id=world.topic.id)
    assert new.case_id != case_id


def test_outbound_is_refused_for_a_guest_an_open_conversation_or_one_not_ended(world):
    guest_cid, _ = _ended(world, factories.customer())
    client = Client()
    client.force_login(world.agent)
    answer = client.post(f"/api/staff/conversations/{guest_cid}/continue", {"topic_id": world.topic.id},
                         content_type="application/json")
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "customer_not_authenticated")
    customer = factories.customer(authenticated=True)
    _c, active_cid, _case = _handled(world, customer)
    with pytest.raises(Conflict) as not_ended:
        actions.conversation_continue(principal=principal(world.agent), conversation_id=active_cid,
                                      topic_id=world.topic.id)
    assert not_ended.value.code == "conversation_not_ended"
    actions.conversation_end(principal=principal(world.agent), conversation_id=active_cid)
    actions.customer_message_send(principal=principal(customer), body="A new question", client_message_id="q2",
                                  topic_id=world.loans.id)  # the customer started another meanwhile
    count = Conversation.objects.count()
    with pytest.raises(Conflict) as open_one:
        actions.conversation_continue(principal=principal(world.agent), conversation_id=active_cid,
                                      topic_id=world.topic.id)
    assert open_one.value.code == "customer_has_open_conversation" and Conversation.objects.count() == count


def test_outbound_over_the_api_is_the_agents_in_progress(world):
    customer = factories.customer(authenticated=True)
    cid, _case_id = _ended(world, customer)
    client = Client()
    client.force_login(world.agent)
    answer = client.post(f"/api/staff/conversations/{cid}/continue",
                         {"topic_id": world.loans.id, "body": "News about your loan", "client_message_id": "o-9"},
                         content_type="application/json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["state"], body["outbound"], body["topic"]["name"], body["assigned_agent"]["id"]) == (
        "active", True, "Loans", world.agent.id)
    active = client.get("/api/staff/conversations", {"state": "active"}).json()
    assert body["id"] in [c["id"] for c in active]


# --- the Cases module -----------------------------------------------------------------------

def test_the_index_is_scoped_filtered_and_paged_by_keyset(world):
    jan = factories.customer(authenticated=True, name="Jan Kowalski")
    ewa = factories.customer(authenticated=True, name="Ewa Nowak")
    _c, _cid, mine = _handled(world, jan)
    _c, cid2, loan = _handled(world, ewa, world.loans)
    actions.conversation_transfer(principal=principal(world.agent), conversation_id=cid2, to_user_id=world.agent2.id)
    guest_case = Conversation.objects.get(pk=actions.customer_message_send(
        principal=principal(factories.customer()), body="Hi", client_message_id="g", topic_id=world.topic.id,
    )[0].conversation_id).case_id  # waiting: nobody handled it yet
    actions.case_status_set(principal=principal(world.agent), case_id=loan, status_id=_status(world, "Resolved").id)

    def listed(user, **params):
        client = Client()
        client.force_login(user)
        answer = client.get("/api/staff/cases", params)
        assert answer.status_code == 200, answer.content
        return [c["id"] for c in answer.json()["cases"]]

    assert listed(world.admin) == [guest_case, loan, mine]
    assert listed(world.supervisor) == listed(world.auditor) == [guest_case, loan, mine]
    assert listed(world.agent) == [loan, mine]
    assert listed(world.agent2) == [loan]
    assert listed(world.outsider) == [] and listed(factories.staff(world.other_lob, role="admin")) == []
    assert listed(world.admin, resolved="true") == [loan]
    assert listed(world.admin, status_id=_status(world, "Open").id) == [guest_case, mine]
    assert listed(world.admin, case_type_id=world.loans.case_type_id) == [loan]
    assert listed(world.admin, agent_id=world.agent2.id) == [loan]
    assert listed(world.admin, q="kowal") == [mine] and listed(world.admin, q=f"#{loan}") == [loan]
    assert listed(world.admin, created_from="2000-01-01", created_to="2000-01-02") == []
    client = Client()
    client.force_login(world.admin)
    page = client.get("/api/staff/cases", {"limit": 2}).json()
    assert [c["id"] for c in page["cases"]] == [guest_case, loan] and page["next_before_id"] == loan
    rest = client.get("/api/staff/cases", {"limit": 2, "before_id": page["next_before_id"]}).json()
    assert [c["id"] for c in rest["cases"]] == [mine] and rest["next_before_id"] is None
    row = page["cases"][0]
    assert (row["customer"]["name"], row["topic"]["name"], row["status"]["name"]) == ("Customer", "Cards", "Open")
    assert client.get("/api/staff/cases", {"limit": 0}).json()["error"]["code"] == "limit_invalid"


def test_the_list_follows_its_rules_for_every_filter_and_pair_of_filters():
    """Against a plain reading of the rules, as each kind of staff, walked 3 at a time (the
    same check runs on PostgreSQL: tests/scaleout/test_cases_postgres.py)."""
    from tests.support import case_listing

    assert case_listing.mismatches(case_listing.varied_cases()) == []


def test_a_case_opens_on_its_whole_timeline_across_conversations(world):
    customer = factories.customer(authenticated=True)
    cid, case_id = _ended(world, customer)
    actions.staff_message_send(principal=principal(world.agent), conversation_id=cid, body="VIP: call back",
                               client_message_id="n1", visibility="staff")
    new = actions.conversation_continue(principal=principal(world.agent), conversation_id=cid,
                                        topic_id=world.topic.id, body="Calling back")
    assert new.case_id == case_id
    client = Client()
    client.force_login(world.admin)
    case = client.get(f"/api/staff/cases/{case_id}").json()
    assert [c["id"] for c in case["conversations"]] == [cid, new.id]
    assert [h["id"] for h in case["handlers"]] == [world.agent.id]
    items = client.get(f"/api/staff/cases/{case_id}/timeline", {"limit": 4}).json()
    assert items["has_more"]
    rest = client.get(f"/api/staff/cases/{case_id}/timeline", {"after_id": items["items"][-1]["id"]}).json()
    texts = [i["text"] for i in items["items"] + rest["items"]]
    assert texts[0] == "Hello" and "VIP: call back" in texts and texts[-1] == "Calling back"
    assert [i["id"] for i in items["items"] + rest["items"]] == sorted(i["id"] for i in items["items"] + rest["items"])


# --- who may do what on a case ---------------------------------------------------------------

WHO = ["customer", "assigned", "agent2", "other_line_admin", "admin", "supervisor", "auditor"]
CASE_MATRIX = {
    #                           customer assigned agent2 other_line_admin admin supervisor auditor
    ("get", "/api/staff/cases/{case}"):          [401, 200, 404, 404, 200, 200, 200],
    ("get", "/api/staff/cases/{case}/timeline"): [401, 200, 404, 404, 200, 200, 200],
    ("post", "/api/staff/cases/{case}/status"):  [401, 200, 404, 404, 200, 200, "403:role_read_only"],
}


def _snapshot():
    return (list(Case.objects.order_by("pk").values()), list(Message.objects.order_by("pk").values()),
            list(Conversation.objects.order_by("pk").values()))


@pytest.mark.parametrize("route", list(CASE_MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
@pytest.mark.parametrize("who", WHO)
def test_case_permission_matrix(world, capture_events, route, who):
    customer, _cid, case_id = _handled(world)
    clients = {}
    _customer, token = factories.customer_with_token(authenticated=True)
    clients["customer"] = Client(headers={"Authorization": f"Bearer {token}"})
    for name, user in (("assigned", world.agent), ("agent2", world.agent2),
                       ("other_line_admin", factories.staff(world.other_lob, role="admin")), ("admin", world.admin),
                       ("supervisor", world.supervisor), ("auditor", world.auditor)):
        clients[name] = Client()
        clients[name].force_login(user)
    method, path = route
    expected = CASE_MATRIX[route][WHO.index(who)]
    before = _snapshot()
    with capture_events() as events:
        if method == "post":
            answer = clients[who].post(path.format(case=case_id), {"status_id": _status(world, "Resolved").id},
                                       content_type="application/json")
        else:
            answer = clients[who].get(path.format(case=case_id))
    outcome = answer.status_code if isinstance(expected, int) else f"{answer.status_code}:{answer.json()['error']['code']}"
    assert outcome == expected, answer.content
    if answer.status_code >= 400 or method == "get":
        assert _snapshot() == before, "a refused or reading call changed a case, message or conversation"
        assert events == [], "a refused or reading call published events"
    else:
        assert Case.objects.get(pk=case_id).status.name == "Resolved"
        assert [e["t"] for e in events if e["t"] == "conversation.updated"]


def test_customers_cannot_manage_cases(world):
    """No customer-facing operation touches a case, and the actions refuse a customer as if
    the case did not exist."""
    customer, _cid, case_id = _handled(world)
    from branchline.api import api

    operations = api.get_openapi_schema()["paths"]
    assert not [path for path in operations if path.startswith("/api/customer") and "case" in path]
    with pytest.raises(NotFound) as refused:
        actions.case_status_set(principal=principal(customer), case_id=case_id, status_id=_status(world, "Resolved").id)
    assert refused.value.code == "case_not_found"
    with pytest.raises(Forbidden):
        actions.conversation_topic_set(principal=principal(customer), conversation_id=_cid, topic_id=world.loans.id)


def test_ended_conversations_are_found_by_the_signed_in_customers_name(world):
    """Outbound starts in Ended, by finding the customer (seed 000)."""
    _c, jans, _ = _handled(world, factories.customer(authenticated=True, name="Jan Kowalski"))
    _c, ewas, _ = _handled(world, factories.customer(authenticated=True, name="Ewa Nowak"))
    _c, guests, _ = _handled(world, factories.customer())
    for cid in (jans, ewas, guests):
        actions.conversation_end(principal=principal(world.agent), conversation_id=cid)
    client = Client()
    client.force_login(world.agent)

    def found(q):
        return [c["id"] for c in client.get("/api/staff/conversations", {"state": "ended", "q": q}).json()]

    assert found("kowal") == [jans] and found("NOWAK") == [ewas] and found("customer") == []
    assert set(found("")) == {jans, ewas, guests}
    other = Client()
    other.force_login(world.agent2)  # never took part in them
    assert other.get("/api/staff/conversations", {"state": "ended", "q": "kowal"}).json() == []


def test_a_range_of_days_pages_newest_first_by_creation_time(world):
    from django.utils import timezone

    ids = [_handled(world)[2] for _ in range(3)]
    today = timezone.localdate().isoformat()
    client = Client()
    client.force_login(world.admin)
    seen, before = [], None
    for _ in range(4):
        page = client.get("/api/staff/cases", {"created_from": today, "created_to": today, "limit": 1,
                                               **({"before_id": before} if before else {})}).json()
        seen += [c["id"] for c in page["cases"]]
        before = page["next_before_id"]
        if before is None:
            break
    assert seen == ids[::-1]
    agent = Client()
    agent.force_login(world.agent)
    assert [c["id"] for c in agent.get("/api/staff/cases", {"created_to": today}).json()["cases"]] == ids[::-1]
    assert agent.get("/api/staff/cases", {"created_from": "2000-01-01", "created_to": "2000-01-31"}).json()["cases"] == []


@pytest.mark.parametrize("params", [
    {"status_id": 2**63}, {"case_type_id": 0}, {"agent_id": -1}, {"before_id": 2**64}, {"q": "a\x00b"},
    {"q": "x" * 101}, {"created_from": "yesterday"}, {"created_to": "2026-02-30"}, {"limit": 101},
    {"resolved": "maybe"},
])
def test_bad_index_queries_are_refused_clearly(world, params):
    client = Client()
    client.force_login(world.admin)
    answer = client.get("/api/staff/cases", params)
    assert answer.status_code == 422 and answer.json()["error"]["code"] in ("invalid", "limit_invalid"), answer.content


@pytest.mark.parametrize("params,expected", [
    ({"created_to": "9999-12-31"}, 1), ({"created_from": "0001-01-01"}, 1), ({"q": "#²"}, 0), ({"q": "#0"}, 0),
    ({"q": f"#{2**70}"}, 0),
])
def test_edge_values_answer_not_fail(world, params, expected):
    _handled(world)
    client = Client()
    client.force_login(world.admin)
    answer = client.get("/api/staff/cases", params)
    assert answer.status_code == 200 and len(answer.json()["cases"]) == expected


def test_the_date_cursor_tells_nothing_of_a_case_outside_the_list(world):
    from django.utils import timezone

    from branchline.cases import listing

    mine = _handled(world)[2]
    first, _ = actions.customer_message_send(principal=principal(factories.customer()), body="Hi",
                                             client_message_id="o1", topic_id=world.other_topic.id)
    theirs = Conversation.objects.get(pk=first.conversation_id).case_id  # another line's, newer than mine
    today = timezone.localdate()
    listed = listing.cases_page(principal(world.admin), listing.CaseFilters(created_from=today), before_id=None, limit=10)
    assert [row["id"] for row in listed] == [mine]
    # Older than theirs would be mine; a cursor from outside the list answers nothing at all.
    assert listing.cases_page(principal(world.admin), listing.CaseFilters(created_from=today), before_id=theirs,
                            limit=10) == []


def test_an_outbound_retry_without_a_message_returns_its_conversation(world):
    customer = factories.customer(authenticated=True)
    cid, _case = _ended(world, customer)
    first = actions.conversation_continue(principal=principal(world.agent), conversation_id=cid,
                                          topic_id=world.topic.id, client_message_id="o-2")
    again = actions.conversation_continue(principal=principal(world.agent), conversation_id=cid,
                                          topic_id=world.topic.id, client_message_id="o-2")
    assert again.id == first.id and Conversation.objects.filter(customer=customer).count() == 2


def test_after_the_window_the_customer_may_choose_another_topic(world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "CASE_POST_RESOLVE_SECONDS": 0}
    customer, cid, case_id = _handled(world, factories.customer())
    actions.case_status_set(principal=principal(world.agent), case_id=case_id, status_id=_status(world, "Resolved").id)
    later, _ = actions.customer_message_send(principal=principal(customer), body="About a loan",
                                             client_message_id="l1", topic_id=world.loans.id)
    assert Conversation.objects.get(pk=later.conversation_id).topic_id == world.loans.id


def test_a_reopened_case_keeps_its_conversation(world, settings):
    """Reopened (any open status) during the conversation: the rule no longer applies."""
    settings.BRANCHLINE = {**settings.BRANCHLINE, "CASE_POST_RESOLVE_SECONDS": 0}
    customer, cid, case_id = _handled(world, factories.customer())
    me = principal(world.agent)
    actions.case_status_set(principal=me, case_id=case_id, status_id=_status(world, "Resolved").id)
    actions.case_status_set(principal=me, case_id=case_id, status_id=_status(world, "In progress").id)
    assert Case.objects.get(pk=case_id).resolved_at is None
    assert _say(customer, "One more thing").conversation_id == cid


def test_an_agent_who_handed_a_case_on_still_finds_it(world):
    _customer, cid, case_id = _handled(world)
    actions.conversation_transfer(principal=principal(world.agent), conversation_id=cid, to_user_id=world.agent2.id)
    client = Client()
    client.force_login(world.agent)
    assert client.get(f"/api/staff/cases/{case_id}").status_code == 200
    assert [c["id"] for c in client.get("/api/staff/cases").json()["cases"]] == [case_id]


def test_a_line_keeps_one_open_status_and_a_status_keeps_its_line(world):
    from django.core.exceptions import ValidationError

    open_ones = [_status(world, name) for name in ("Open", "In progress", "Waiting for the customer")]
    for status in open_ones[1:]:
        status.is_resolved = True
        status.clean()  # others stay open
    lone = open_ones[0]
    CaseStatus.objects.filter(pk__in=[s.pk for s in open_ones[1:]]).update(is_resolved=True)
    lone.is_resolved, lone.is_initial = True, False
    with pytest.raises(ValidationError):
        lone.clean()
