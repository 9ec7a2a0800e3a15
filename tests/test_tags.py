"""Tags (issue 8, docs/protocol.md §15): the line's list, kept by administrators and grown
inline by supervisors; put on a conversation and taken off by those handling it; conversations
and cases filtered by tag; nothing of it reaches the customer."""
import json

import pytest
from django.test import Client

from branchline.accounts.actions import customer_session_start
from branchline.audit.models import AuditRecord
from branchline.conversations import actions
from branchline.conversations.models import Tag
from branchline.core.errors import Forbidden, InvalidInput, NotFound
from branchline.realtime import handlers
from tests import factories
from tests.factories import principal
from tests.support.tasks import run_tasks

pytestmark = pytest.mark.django_db


def _chat(world, name="Jan Kowalski"):
    customer = factories.customer(authenticated=True, name=name)
    first, _ = actions.customer_message_send(principal=principal(customer), body="Hello",
                                             client_message_id=f"c-{name.split()[0]}", topic_id=world.topic.id)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=first.conversation_id)
    return customer, first.conversation_id


def test_a_tag_goes_on_and_comes_off_staff_only_and_once(world, capture_events):
    customer, cid = _chat(world)
    complaint = world.tag
    with capture_events() as events:
        actions.conversation_tag_set(principal=principal(world.agent), conversation_id=cid, tag_id=complaint.id)
        actions.conversation_tag_set(principal=principal(world.agent), conversation_id=cid, tag_id=complaint.id)
    assert [e["t"] for e in events] == ["conversation.updated"]  # once; the second changed nothing
    assert events[0]["d"]["conversation"]["tags"] == [{"id": complaint.id, "name": "Complaint"}]
    assert not any(a.startswith("customer:") for e in events for a in e["a"])
    client = factories.staff_browser(world.agent)
    assert client.get(f"/api/staff/conversations/{cid}").json()["tags"] == [{"id": complaint.id, "name": "Complaint"}]
    me = Client().get("/api/customer/me", HTTP_AUTHORIZATION=f"Bearer {customer_session_start(customer=customer)}")
    assert me.status_code == 200 and "Complaint" not in json.dumps(me.json())
    removed = client.delete(f"/api/staff/conversations/{cid}/tags/{complaint.id}",
                            HTTP_X_CSRFTOKEN=client.csrf)
    assert (removed.status_code, removed.json()["tags"]) == (200, [])


def test_who_may_tag_and_with_which_tags(world):
    _customer, cid = _chat(world)
    ours = Tag.objects.create(line_of_business=world.lob, name="VIP")
    theirs = Tag.objects.create(line_of_business=world.other_lob, name="Treasury")
    for who, tag, error, code in ((world.agent2, ours, NotFound, "conversation_not_found"),
                                  (world.auditor, ours, Forbidden, "role_read_only"),
                                  (world.outsider, ours, NotFound, "conversation_not_found"),
                                  (world.agent, theirs, NotFound, "tag_not_found")):
        with pytest.raises(error) as refused:
            actions.conversation_tag_set(principal=principal(who), conversation_id=cid, tag_id=tag.id)
        assert refused.value.code == code
    actions.conversation_tag_set(principal=principal(world.supervisor), conversation_id=cid, tag_id=ours.id)
    assert handlers._staff_action(principal(world.agent), "conversation.tag",
                                  {"conversation_id": cid, "tag_id": ours.id, "on": False}) == cid
    bad = factories.post_json(factories.staff_browser(world.agent), f"/api/staff/conversations/{cid}/tags",
                              {"tag_id": "vip"})
    assert bad.status_code == 422


def test_supervisors_add_tags_to_the_list_inline_and_agents_do_not(world):
    made = actions.tag_create(principal=principal(world.supervisor), name="  Fraud   suspicion ")
    assert (made.name, made.line_of_business_id, made.created_by) == ("Fraud suspicion", world.lob.id,
                                                                      world.supervisor.display_name)
    assert actions.tag_create(principal=principal(world.admin), name="FRAUD SUSPICION").id == made.id
    with pytest.raises(Forbidden) as agent:
        actions.tag_create(principal=principal(world.agent), name="Mine")
    assert agent.value.code == "role_forbidden"
    for name, code in (("", "tag_name_required"), ("x" * 51, "tag_name_too_long"), ("A\x00B", "tag_name_invalid")):
        with pytest.raises(InvalidInput) as refused:
            actions.tag_create(principal=principal(world.supervisor), name=name)
        assert refused.value.code == code
    listed = factories.staff_browser(world.agent).get("/api/staff/tags").json()
    assert listed == [{"id": world.tag.id, "name": "Complaint"}, {"id": made.id, "name": "Fraud suspicion"}]
    assert factories.staff_browser(world.outsider).get("/api/staff/tags").json() == []


def test_conversations_and_cases_are_found_by_tag(world):
    _jan, tagged = _chat(world, "Jan Kowalski")
    _maria, other = _chat(world, "Maria Silva")
    vip = Tag.objects.create(line_of_business=world.lob, name="VIP")
    actions.conversation_tag_set(principal=principal(world.agent), conversation_id=tagged, tag_id=vip.id)
    client = factories.staff_browser(world.agent)
    active = client.get("/api/staff/conversations", {"state": "active", "tag_id": vip.id}).json()
    assert [c["id"] for c in active] == [tagged]
    for user in (world.agent, world.supervisor):
        cases = factories.staff_browser(user).get("/api/staff/cases", {"tag_id": vip.id}).json()["cases"]
        assert [c["customer"]["name"] for c in cases] == ["Jan Kowalski"]
    assert other


@pytest.mark.django_db(transaction=True)  # the audit record is written by a task
def test_a_tag_added_inline_is_audited_like_one_added_in_the_administration(world):
    made = actions.tag_create(principal=principal(world.supervisor), name="Fraud suspicion")
    actions.tag_create(principal=principal(world.supervisor), name="fraud SUSPICION")  # found: not added again
    run_tasks()
    added = AuditRecord.objects.filter(event="administration.changed")
    assert [(r.data["model"], r.data["object_id"], r.data["change"], r.actor_id) for r in added] == [
        ("conversations.tag", made.id, "added", world.supervisor.id)]
