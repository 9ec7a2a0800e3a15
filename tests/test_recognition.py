"""Recognizing a customer (issue 8, docs/protocol.md §17): staff relate a conversation's customer
to a contact of their line's customer base, found as they type, or record one for it there and
then; the customer is Recognized for staff, and nothing of it reaches the customer."""
import json

import pytest
from django.test import Client

from branchline.accounts.actions import customer_session_start
from branchline.audit.models import AuditRecord
from branchline.contacts.models import Contact, CustomerContact
from branchline.conversations import actions
from branchline.core.errors import InvalidInput, NotFound
from branchline.realtime import handlers
from tests import factories
from tests.factories import principal
from tests.support.tasks import run_tasks

pytestmark = pytest.mark.django_db


def _guest_chat(world):
    guest = factories.customer()
    first, _ = actions.customer_message_send(principal=principal(guest), body="Hi, it's Jan",
                                             client_message_id="g-1", topic_id=world.topic.id)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=first.conversation_id)
    return guest, first.conversation_id


@pytest.mark.django_db(transaction=True)  # audit records are written by tasks
def test_a_guest_related_to_a_contact_is_recognized_for_staff_only(world, capture_events):
    guest, cid = _guest_chat(world)
    with capture_events() as events:
        actions.customer_contact_relate(principal=principal(world.agent), conversation_id=cid,
                                        contact_id=world.contact.id)
        actions.customer_contact_relate(principal=principal(world.agent), conversation_id=cid,
                                        contact_id=world.contact.id)  # again: nothing changes
    assert [e["t"] for e in events] == ["conversation.updated"]
    assert not any(a.startswith("customer:") for e in events for a in e["a"])
    customer = events[0]["d"]["conversation"]["customer"]
    assert (customer["name"], customer["contact"]["email"]) == ("Jan Kowalski", "jan.kowalski@example.com")
    seen = factories.staff_browser(world.agent).get(f"/api/staff/conversations/{cid}").json()["customer"]
    assert (seen["name"], seen["contact"]["id"], seen["authenticated"]) == ("Jan Kowalski", world.contact.id, False)
    me = Client().get("/api/customer/me", HTTP_AUTHORIZATION=f"Bearer {customer_session_start(customer=guest)}")
    assert me.json()["customer"]["name"] == "Customer" and "Kowalski" not in json.dumps(me.json())
    run_tasks()
    record = AuditRecord.objects.get(event="customer.recognized")
    assert (record.actor_id, record.data["contact_id"], record.data["created"]) == (world.agent.id,
                                                                                    world.contact.id, False)


def test_recording_a_contact_from_the_conversation(world):
    guest, cid = _guest_chat(world)
    agent = principal(world.agent)
    refusals = [({"first_name": "", "last_name": "Nowak", "email": "a@b.pl"}, "contact_name_required"),
                ({"first_name": "Ewa", "last_name": "Nowak"}, "contact_reach_required"),
                ({"first_name": "Ewa", "last_name": "Nowak", "email": "not-an-address"}, "contact_email_invalid"),
                ({"first_name": "Ewa", "last_name": "Nowak", "phone": "call me"}, "contact_phone_invalid"),
                ({"first_name": "Ewa" * 40, "last_name": "Nowak", "phone": "+48 600 100 200"}, "contact_invalid"),
                ({"first_name": "Ewa\x00", "last_name": "Nowak", "phone": "+48 600 100 200"}, "contact_invalid")]
    for fields, code in refusals:
        with pytest.raises(InvalidInput) as refused:
            actions.contact_create(principal=agent, conversation_id=cid, **fields)
        assert refused.value.code == code, fields
    assert Contact.objects.count() == 1  # only the world's
    client = factories.staff_browser(world.agent)
    made = factories.post_json(client, f"/api/staff/conversations/{cid}/contact/new", {
        "first_name": " Ewa ", "last_name": "Nowak", "phone": "+48 600 100 200", "company": "Nowak Sp. z o.o."})
    assert made.status_code == 200, made.content
    contact = made.json()["customer"]["contact"]
    assert (contact["name"], contact["phone"], contact["company"], contact["email"]) == (
        "Ewa Nowak", "+48 600 100 200", "Nowak Sp. z o.o.", "")
    stored = Contact.objects.get(pk=contact["id"])
    assert (stored.line_of_business_id, stored.created_by) == (world.lob.id, world.agent.display_name)
    assert list(CustomerContact.objects.filter(customer=guest).values_list("contact_id", "line_of_business_id")) == [
        (stored.id, world.lob.id)]


def test_searching_contacts_as_you_type_within_the_line(world):
    Contact.objects.create(line_of_business=world.lob, first_name="Janina", last_name="Nowak", phone="+48 500 600 700")
    Contact.objects.create(line_of_business=world.other_lob, first_name="Jan", last_name="Korporacyjny",
                           email="jan@corp.example")
    client = factories.staff_browser(world.agent)

    def names(q, who=client):
        answer = who.get("/api/staff/contacts/search", {"q": q})
        assert answer.status_code == 200, answer.content
        return [c["name"] for c in answer.json()]

    assert names("jan") == ["Jan Kowalski", "Janina Nowak"]
    assert names("jan kow") == ["Jan Kowalski"]
    assert names("jan.kowalski@") == ["Jan Kowalski"]
    assert names("600 700") == ["Janina Nowak"]
    assert names("j") == []  # two characters at least
    assert names("Korpo") == []  # another line's contact
    assert names("Korpo", factories.staff_browser(world.outsider)) == ["Jan Korporacyjny"]


def test_who_may_relate_and_to_which_contacts(world):
    _guest, cid = _guest_chat(world)
    theirs = Contact.objects.create(line_of_business=world.other_lob, first_name="Jan", last_name="K",
                                    email="k@corp.example")
    with pytest.raises(NotFound) as refused:
        actions.customer_contact_relate(principal=principal(world.agent), conversation_id=cid, contact_id=theirs.id)
    assert refused.value.code == "contact_not_found"
    with pytest.raises(NotFound):
        actions.contact_create(principal=principal(world.outsider), conversation_id=cid, first_name="A",
                               last_name="B", email="a@b.pl")
    assert Contact.objects.filter(first_name="A").count() == 0
    # Over the socket too.
    assert handlers._staff_action(principal(world.supervisor), "customer.relate",
                                  {"conversation_id": cid, "contact_id": world.contact.id}) == cid
    made = handlers._staff_action(principal(world.agent), "contact.create",
                                  {"conversation_id": cid, "first_name": "Ewa", "last_name": "Nowak",
                                   "email": "ewa@example.com"})
    assert made == cid and CustomerContact.objects.get(customer=_guest).contact.first_name == "Ewa"


def test_the_contacts_page_shows_recognized_guests(world):
    guest, cid = _guest_chat(world)
    client = factories.staff_browser(world.supervisor)
    assert client.get("/api/staff/contacts").json()["contacts"] == []  # a guest is one chat
    actions.customer_contact_relate(principal=principal(world.agent), conversation_id=cid, contact_id=world.contact.id)
    rows = client.get("/api/staff/contacts", {"q": "Kowal"}).json()["contacts"]
    assert [(r["id"], r["name"], r["contact"]["name"]) for r in rows] == [(guest.id, "Customer", "Jan Kowalski")]


def test_a_lines_contact_stays_that_lines_and_the_banks_name_stays(world, capture_events):
    """Jan, signed in with the bank, writes to two lines: each relates him to a contact of its
    own; neither sees the other's, nor replaces it, and his verified name stays."""
    jan = factories.customer(authenticated=True, name="Jan Kowalski")
    first, _ = actions.customer_message_send(principal=principal(jan), body="Cards", client_message_id="j-1",
                                             topic_id=world.topic.id)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=first.conversation_id)
    world.contact.first_name = "Janek"  # what line A recorded
    world.contact.save()
    actions.customer_contact_relate(principal=principal(world.agent), conversation_id=first.conversation_id,
                                    contact_id=world.contact.id)
    actions.conversation_end(principal=principal(world.agent), conversation_id=first.conversation_id)
    second, _ = actions.customer_message_send(principal=principal(jan), body="Treasury", client_message_id="j-2",
                                              topic_id=world.other_topic.id)
    factories.serve(world.outsider, second.conversation.queue)
    with capture_events() as events:
        actions.conversation_accept(principal=principal(world.outsider), conversation_id=second.conversation_id)
    theirs = factories.staff_browser(world.outsider)
    seen = theirs.get(f"/api/staff/conversations/{second.conversation_id}").json()["customer"]
    assert (seen["name"], seen["contact"]) == ("Jan Kowalski", None)
    assert "Janek" not in json.dumps(events) and "jan.kowalski@example.com" not in json.dumps(events)
    assert "Janek" not in json.dumps(theirs.get("/api/staff/contacts").json())
    assert theirs.get("/api/staff/contacts", {"q": "Janek"}).json()["contacts"] == []
    own = Contact.objects.create(line_of_business=world.other_lob, first_name="J.", last_name="Kowalski",
                                 email="jk@corp.example")
    actions.customer_contact_relate(principal=principal(world.outsider), conversation_id=second.conversation_id,
                                    contact_id=own.id)
    ours = factories.staff_browser(world.agent).get(f"/api/staff/conversations/{first.conversation_id}").json()
    assert (ours["customer"]["name"], ours["customer"]["contact"]["first_name"]) == ("Jan Kowalski", "Janek")
    assert CustomerContact.objects.filter(customer=jan).count() == 2
