"""Domain events and their durable subscribers: the audit record of every state change,
enqueued in the action's own transaction (an outbox) and run by a task worker."""
import json
import sqlite3
import time
import uuid

import httpx
import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from branchline.audit.models import AuditRecord
from branchline.conversations import actions
from branchline.core.errors import Conflict
from branchline.events import subscriptions
from tests import factories
from tests.factories import principal
from tests.scaleout import Staff, customer_post, customer_token, first_topic_id
from tests.support.servers import ServerProcess, manage, server_env
from tests.support.tasks import run_tasks


def start(world, customer=None):
    message, _ = actions.customer_message_send(principal=principal(customer or factories.customer()), body="Hi",
                                               client_message_id=uuid.uuid4().hex, topic_id=world.topic.id)
    return message.conversation_id


@pytest.mark.django_db(transaction=True)
def test_every_state_change_leaves_one_audit_record(world):
    cid = start(world)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=cid)
    actions.conversation_join(principal=principal(world.supervisor), conversation_id=cid)
    actions.conversation_transfer(principal=principal(world.agent), conversation_id=cid, to_user_id=world.agent2.id,
                                  note="yours")
    actions.conversation_release(principal=principal(world.agent2), conversation_id=cid)
    actions.conversation_end(principal=principal(world.supervisor), conversation_id=cid)
    assert AuditRecord.objects.count() == 0  # nothing runs until a worker does
    run_tasks()
    run_tasks()  # a second run finds nothing left to do
    records = list(AuditRecord.objects.order_by("occurred_at", "id").values_list(
        "event", "actor_kind", "actor_id", "subject_type", "subject_id"))
    assert records == [
        ("conversation.started", "customer", records[0][2], "conversation", cid),
        ("conversation.accepted", "staff", world.agent.id, "conversation", cid),
        ("conversation.supervisor_joined", "staff", world.supervisor.id, "conversation", cid),
        ("conversation.transferred", "staff", world.agent.id, "conversation", cid),
        ("conversation.released", "staff", world.agent2.id, "conversation", cid),
        ("conversation.ended", "staff", world.supervisor.id, "conversation", cid),
    ]
    transferred = AuditRecord.objects.get(event="conversation.transferred")
    assert transferred.data["from_agent_id"] == world.agent.id and transferred.data["to_agent_id"] == world.agent2.id
    assert transferred.data["with_note"] is True and "yours" not in str(transferred.data)  # no message text


@pytest.mark.django_db(transaction=True)
def test_a_refused_or_rolled_back_action_enqueues_nothing(world):
    cid = start(world)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=cid)
    queued = DBTaskResult.objects.count()
    with pytest.raises(Conflict):
        actions.conversation_accept(principal=principal(world.agent2), conversation_id=cid)
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.conversation_end(principal=principal(world.agent), conversation_id=cid)
        raise RuntimeError("the caller's transaction fails after the action")
    assert DBTaskResult.objects.count() == queued


@pytest.mark.django_db(transaction=True)
def test_a_message_is_its_own_record(world):
    cid = start(world)
    assert [t.task_path for t in DBTaskResult.objects.all()] == ["branchline.audit.tasks.record_event"]  # started
    actions.conversation_accept(principal=principal(world.agent), conversation_id=cid)
    before = DBTaskResult.objects.count()
    actions.staff_message_send(principal=principal(world.agent), conversation_id=cid, body="Hi",
                               client_message_id="m1")
    assert DBTaskResult.objects.count() == before


def test_the_subscriber_table_is_explicit_and_complete():
    from branchline.conversations import events

    table = subscriptions()
    for event_type in (events.ConversationAccepted, events.ConversationTransferred, events.SupervisorLeft,
                       events.ConversationEnded, events.ConversationReleased, events.ConversationStarted):
        inline, durable = table.for_event(event_type)
        assert [s.__name__ for s in inline] == ["conversation_changed"]
        assert [t.name for t in durable] == ["record_event"]
    assert table.for_event(events.MessageAdded)[1] == []


def _sqlite(path, sql):
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


def test_an_event_committed_before_a_kill_9_reaches_its_subscriber_after_restart(tmp_path):
    """Commit, then the process dies before any worker ran the subscriber: the task row
    committed with the change, so the restarted process's worker records it."""
    database = tmp_path / "db.sqlite3"
    env = server_env(settings="branchline.settings.demo", database_url=f"sqlite:///{database}",
                     BRANCHLINE_VAR_DIR=str(tmp_path), BRANCHLINE_TASK_WORKER_IN_PROCESS="0")
    for args in (("migrate", "--noinput", "-v", "0"), ("seed_demo",)):
        result = manage(*args, env=env, check=False)
        assert result.returncode == 0, result.stderr
    server = ServerProcess(env, log_path=tmp_path / "server.log").start()
    try:
        token = customer_token(server)
        sent = customer_post(server, token, "/api/customer/messages",
                             {"body": "Hello", "client_message_id": "c1", "topic_id": first_topic_id(server)})
        cid = sent.json()["message"]["conversation_id"]
        anna = Staff(server, "anna")
        assert anna.accept(server, cid).status_code == 200
        server.kill()  # kill -9 right after the commit: no worker has run
        assert _sqlite(database, "SELECT count(*) FROM audit_auditrecord") == [(0,)]
        waiting = _sqlite(database, "SELECT args_kwargs FROM django_tasks_database_dbtaskresult "
                                    "WHERE status = 'READY'")
        records = [json.loads(row[0])["args"][0] for row in waiting]
        assert [r["event"] for r in records if r["subject"]["id"] == cid] == ["conversation.started",
                                                                            "conversation.accepted"]
        server.env = {**env, "BRANCHLINE_TASK_WORKER_IN_PROCESS": "1"}
        server.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            events = _sqlite(database, f"SELECT event, actor_id, address FROM audit_auditrecord "
                                       f"WHERE subject_id = {cid} ORDER BY id")
            if len(events) == 2:
                break
            time.sleep(0.2)
        staff_id = httpx.get(server.url + "/api/staff/me", headers={"Cookie": anna.cookie_header}).json()["id"]
        assert [e[0] for e in events] == ["conversation.started", "conversation.accepted"]
        assert events[1][1:] == (staff_id, "127.0.0.1")  # who, and from which address
    finally:
        server.stop()
