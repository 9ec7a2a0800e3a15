"""The audit trail records who read which customer's data: a conversation, its messages,
the customer's history. Once per reader, customer and kind per READ_AUDIT_SECONDS; never for
a customer reading their own."""
import time

import pytest

from branchline.audit.models import AuditRecord
from branchline.conversations import actions
from tests import factories
from tests.factories import principal
from tests.support.tasks import run_tasks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chat(world):
    customer, token = factories.customer_with_token(authenticated=True)
    message, _ = actions.customer_message_send(principal=principal(customer), body="Hello", client_message_id="c1",
                                               topic_id=world.topic.id)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=message.conversation_id)
    return customer, token, message.conversation_id


def _reads():
    run_tasks()
    return sorted((r.actor_id, r.subject_id, r.data["what"]) for r in AuditRecord.objects.filter(event="customer.data_read"))


def test_staff_reads_are_recorded_once_per_window_and_the_customers_own_are_not(world, chat, client):
    customer, token, conversation_id = chat
    agent = factories.staff_browser(world.agent)
    auditor = factories.staff_browser(world.auditor)
    for _ in range(3):  # paging: one record, not three
        assert agent.get(f"/api/staff/conversations/{conversation_id}/messages").status_code == 200
    assert agent.get(f"/api/staff/conversations/{conversation_id}").status_code == 200
    assert agent.get(f"/api/staff/conversations/{conversation_id}/history").status_code == 200
    assert auditor.get(f"/api/staff/conversations/{conversation_id}/messages").status_code == 200
    assert client.get("/api/customer/messages", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert _reads() == sorted([(world.agent.id, customer.id, "messages"), (world.agent.id, customer.id, "conversation"),
                               (world.agent.id, customer.id, "history"), (world.auditor.id, customer.id, "messages")])
    record = AuditRecord.objects.filter(event="customer.data_read").first()
    assert record.data["conversation_id"] == conversation_id and record.subject_type == "customer"


def test_a_refused_read_records_nothing(world, chat):
    _customer, _token, conversation_id = chat
    stranger = factories.staff_browser(world.outsider)
    assert stranger.get(f"/api/staff/conversations/{conversation_id}/messages").status_code == 404
    assert _reads() == []


def test_after_the_window_a_read_is_recorded_again(world, chat, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "READ_AUDIT_SECONDS": 1}
    customer, _token, conversation_id = chat
    agent = factories.staff_browser(world.agent)
    agent.get(f"/api/staff/conversations/{conversation_id}/messages")
    time.sleep(2.1)  # two fixed one-second windows later
    agent.get(f"/api/staff/conversations/{conversation_id}/messages")
    assert _reads() == [(world.agent.id, customer.id, "messages")] * 2
