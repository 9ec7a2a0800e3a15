"""The cases' status migrations (cases 0002-0004) and the queues' (routing 0001-0002,
conversations 0006-0008) on a PostgreSQL database that already holds cases: the old "open" /
"resolved" strings become the line's statuses, the agents who took part become handlers, the
conversations wait in their line's default queue, and nothing is lost. (An empty database, or SQLite, would not show
PostgreSQL's refusal to alter a table whose deferred foreign keys were just updated.)"""
import json
import subprocess
import sys
import uuid

import pytest

from tests.support.servers import ROOT, server_env

from .conftest import PG_HOST, PG_PORT, _admin_connection, _drop_database

pytestmark = pytest.mark.scaleout

MIGRATE = r'''
import json
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

call_command("migrate", "conversations", "0004_customer_signed_in_line", verbosity=0)
state = MigrationExecutor(connection).loader.project_state(
    [("conversations", "0004_customer_signed_in_line"), ("cases", "0001_initial")])
model = state.apps.get_model
line = model("accounts", "LineOfBusiness").objects.create(name="Retail")
agent = model("accounts", "User").objects.create(username="anna", password="", role="agent", line_of_business=line)
case_type = model("cases", "CaseType").objects.create(line_of_business=line, name="Cards")
topic = model("cases", "Topic").objects.create(case_type=case_type, name="Cards")
channel = model("connectors", "Channel").objects.create(kind="web", name="Web")
made = {}
for old in ("open", "resolved"):
    customer = model("contacts", "Customer").objects.create(is_authenticated=True, sso_subject=old, name=old)
    case = model("cases", "Case").objects.create(customer=customer, topic=topic, case_type=case_type,
                                                line_of_business=line, status=old)
    conversation = model("conversations", "Conversation").objects.create(
        customer=customer, case=case, topic=topic, channel=channel, line_of_business=line, state="ended")
    model("conversations", "Participant").objects.create(conversation=conversation, role="customer")
    model("conversations", "Participant").objects.create(conversation=conversation, role="agent", user=agent)
    made[old] = case.id

call_command("migrate", verbosity=0)
from branchline.cases.models import Case, CaseHandler, CaseStatus
out = {old: [Case.objects.get(pk=pk).status.name, Case.objects.get(pk=pk).resolved_at is not None,
             list(CaseHandler.objects.filter(case_id=pk).values_list("user__username", flat=True))]
       for old, pk in made.items()}
out["statuses"] = list(CaseStatus.objects.filter(line_of_business__name="Retail").values_list("name", "is_resolved",
                                                                                                "is_initial"))
from branchline.conversations.models import Conversation
from branchline.routing.models import ChannelGrant, QueueMember
out["queues"] = sorted({(c.queue.name, c.queue.is_default) for c in Conversation.objects.select_related("queue")})
out["members"] = list(QueueMember.objects.values_list("user__username", "queue__name"))
out["grants"] = list(ChannelGrant.objects.values_list("user__username", "channel__kind"))
print(json.dumps(out))
'''


def test_existing_cases_keep_their_meaning_through_the_status_migrations(pg_user):
    name = f"branchline_migrate_{uuid.uuid4().hex[:8]}"
    with _admin_connection(pg_user) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = server_env(settings="branchline.settings.production",
                         database_url=f"postgres://{pg_user}@{PG_HOST}:{PG_PORT}/{name}")
        ran = subprocess.run([sys.executable, "-c", MIGRATE], env=env, cwd=ROOT, capture_output=True, text=True,
                             timeout=180)
        assert ran.returncode == 0, ran.stderr[-3000:]
        out = json.loads(ran.stdout.strip().splitlines()[-1])
    finally:
        _drop_database(pg_user, name)
    assert out["open"] == ["Open", False, ["anna"]]
    assert out["resolved"] == ["Resolved", True, ["anna"]]
    assert out["statuses"] == [["Open", False, True], ["In progress", False, False],
                               ["Waiting for the customer", False, False], ["Resolved", True, False]]
    # Queues (routing 0002, conversations 0006-0008): the line's conversations wait in its
    # default queue, named after it, which its agent serves from every channel.
    assert (out["queues"], out["members"], out["grants"]) == ([["Retail", True]], [["anna", "Retail"]],
                                                              [["anna", "web"]])
