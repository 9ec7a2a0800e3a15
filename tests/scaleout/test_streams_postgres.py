"""The hot path's single statement on PostgreSQL (conversations/actions/streams.py, `append`):
a message in an open conversation is one statement, it stores what the ORM reads back field
for field, a retried client id stores nothing, and a send with no open conversation falls
back to the transaction that starts one; the statement is prepared. Run in a child process on the session's
PostgreSQL database, as the servers run (the in-process suite runs on SQLite)."""
import json
import subprocess
import sys

import pytest

from tests.support.servers import ROOT

pytestmark = pytest.mark.scaleout

SENDS = r'''
import json
import django
django.setup()
from django.db import connection, transaction
from branchline.conversations import actions
from branchline.conversations.models import Conversation, Message
from tests import factories
from tests.factories import principal

statements, prepared = [], set()
def count(execute, sql, params, many, context):
    statements.append(sql.split()[0])
    result = execute(sql, params, many, context)
    # What this very connection has prepared (a pooled one: ask it, not another).
    rows = context["connection"].connection.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
    prepared.update(row[0].split()[0] for row in rows.fetchall())
    return result

def send(fn, **kwargs):
    statements.clear()
    with connection.execute_wrapper(count):
        message, created = fn(**kwargs)
    return message, created, list(statements)

out = {}
topic = factories.topic()
agent = factories.staff(topic.case_type.line_of_business)
customer = principal(factories.customer())
first, created, ran = send(actions.customer_message_send, principal=customer, body="Hello", client_message_id="c-1",
                           topic_id=topic.id)
out["start"] = [created, first.seq, first.staff_seq, len(ran) > 1]
actions.conversation_accept(principal=principal(agent), conversation_id=first.conversation_id)

second, created, ran = send(actions.customer_message_send, principal=customer, body="Zażółć ✓", client_message_id="c-2")
out["customer"] = [created, ran]
retry, created, ran = send(actions.customer_message_send, principal=customer, body="Zażółć ✓", client_message_id="c-2")
out["customer_retry"] = [created, retry.id == second.id]
reply, created, ran = send(actions.staff_message_send, principal=principal(agent), conversation_id=first.conversation_id,
                           body="Hi", client_message_id="a-1")
out["staff"] = [created, ran]
note, created, ran = send(actions.staff_message_send, principal=principal(agent), conversation_id=first.conversation_id,
                          body="note", client_message_id="a-2", visibility="staff")
out["note"] = [created, ran]
with transaction.atomic():  # inside a caller's transaction: a refused retry leaves it usable
    again, created, _ = send(actions.staff_message_send, principal=principal(agent),
                             conversation_id=first.conversation_id, body="Hi", client_message_id="a-1")
    out["retry_in_transaction"] = [created, again.id == reply.id, Message.objects.count() > 0]

for stored in (second, reply, note):
    read = Message.objects.get(pk=stored.pk)
    differing = [f.name for f in Message._meta.concrete_fields if getattr(read, f.attname) != getattr(stored, f.attname)]
    out.setdefault("differing", []).extend(differing)
row = Conversation.objects.get(pk=first.conversation_id)
out["numbers"] = [second.seq, second.staff_seq, reply.seq, reply.staff_seq, note.seq, note.staff_seq,
                  row.last_seq, row.last_staff_seq, row.last_message_at == reply.created_at]
# Auto-close counts from the customer's last message: theirs moves it, the agent's reply does not.
out["customer_active_at"] = row.customer_active_at == second.created_at
out["count"] = Message.objects.filter(conversation_id=first.conversation_id).exclude(kind="system").count()
out["prepared"] = sorted(prepared)
# An over-long value is refused by the column, not cut (an explicit CAST to varchar(n) would cut it).
from django.db import DataError
from branchline.conversations.actions import streams
from branchline.conversations.models import Sender
try:
    streams.append("id = %s", [first.conversation_id], actor=streams.Actor("system"), sender=Sender.CUSTOMER,
                   body="x", client_message_id="c" * 65)
    out["too_long"] = "stored"
except DataError:
    out["too_long"] = "refused"
print(json.dumps(out))
'''


def test_a_message_in_an_open_conversation_is_one_statement_that_reads_back_through_the_orm(make_env):
    ran = subprocess.run([sys.executable, "-c", SENDS], env=make_env(), cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout.strip().splitlines()[-1])
    assert out["start"] == [True, 1, 1, True]  # no open conversation: the transaction that starts one
    assert out["customer"] == [True, ["WITH"]]
    assert out["customer_retry"] == [False, True]
    assert out["staff"] == [True, ["WITH"]]
    assert out["note"] == [True, ["WITH"]]
    assert out["retry_in_transaction"] == [False, True, True]
    assert out["differing"] == []
    # accept wrote "joined" at 2; the customer's message 3, the reply 4, the note only staff 5.
    assert out["numbers"] == [3, 3, 4, 4, None, 5, 4, 5, True]
    assert out["count"] == 4
    assert out["customer_active_at"] is True
    assert "WITH" in out["prepared"] and "SELECT" not in out["prepared"]  # not the ORM's
    assert out["too_long"] == "refused"
