"""Cases on PostgreSQL (docs/adr/0018), where their plans differ from SQLite's: an agent's
pages walk their handler rows with nested loops (cases/selectors._one_case_at_a_time), a
range of days walks the creation times' index, and the post-resolve rule sits inside the
send's single statement. Run in a child process on the session's PostgreSQL database, as
the servers run (the in-process suite runs on SQLite)."""
import json
import subprocess
import sys

import pytest

from tests.support.servers import ROOT

pytestmark = pytest.mark.scaleout

CASES = r'''
import json
import django
django.setup()
from django.conf import settings
from django.db import connection
from django.utils import timezone
from branchline.cases import selectors as cases
from branchline.cases.actions import case_statuses_ensure
from branchline.cases.models import Case, CaseStatus
from branchline.conversations import actions
from branchline.conversations.models import Conversation
import itertools, os
from tests import factories
from tests.factories import principal

# The session's database is shared with other child processes: names of our own.
factories._n = itertools.count(1_000_000 + os.getpid() * 1000)
topic = factories.topic()
line = topic.case_type.line_of_business
anna, ben, admin = factories.staff(line), factories.staff(line), factories.staff(line, role="admin")
case_statuses_ensure(line.id)
resolved = CaseStatus.objects.get(line_of_business=line, is_resolved=True)
mine, bens = [], []
for n in range(12):
    customer = factories.customer(authenticated=True, name=f"Customer {n}")
    first, _ = actions.customer_message_send(principal=principal(customer), body="Hi", client_message_id=f"c{n}",
                                             topic_id=topic.id)
    agent = anna if n % 3 else ben
    actions.conversation_accept(principal=principal(agent), conversation_id=first.conversation_id)
    (mine if agent is anna else bens).append(Conversation.objects.get(pk=first.conversation_id).case_id)

def ids(p, **filters):
    return [row["id"] for row in cases.cases_page(p, cases.CaseFilters(**filters), before_id=None, limit=100)]

out = {"anna": ids(principal(anna)) == mine[::-1], "ben": ids(principal(ben)) == bens[::-1],
       "admin_agent": ids(principal(admin), agent_id=ben.id) == bens[::-1],
       "admin": ids(principal(admin)) == sorted(mine + bens, reverse=True)}
page, walked = cases.cases_page(principal(anna), cases.CaseFilters(), before_id=None, limit=3), []
while page:
    walked += [row["id"] for row in page]
    page = cases.cases_page(principal(anna), cases.CaseFilters(), before_id=walked[-1], limit=3)
out["anna_keyset"] = walked == mine[::-1]
today = timezone.localdate()
out["dated"] = ids(principal(admin), created_from=today, created_to=today) == sorted(mine + bens, reverse=True)
out["dated_agent"] = ids(principal(anna), created_from=today) == mine[::-1]
out["still_in_transaction"] = connection.in_atomic_block

# The post-resolve rule in the send's one statement: inside the window the message joins; after it, anew.
customer = factories.customer()
first, _ = actions.customer_message_send(principal=principal(customer), body="Hi", client_message_id="p1",
                                         topic_id=topic.id)
actions.conversation_accept(principal=principal(anna), conversation_id=first.conversation_id)
case_id = Conversation.objects.get(pk=first.conversation_id).case_id
actions.case_status_set(principal=principal(anna), case_id=case_id, status_id=resolved.id)
thanks, _ = actions.customer_message_send(principal=principal(customer), body="Thank you", client_message_id="p2")
settings.BRANCHLINE = {**settings.BRANCHLINE, "CASE_POST_RESOLVE_SECONDS": 0}
later, _ = actions.customer_message_send(principal=principal(customer), body="Another thing", client_message_id="p3")
out["post_resolve"] = [thanks.conversation_id == first.conversation_id, later.conversation_id != first.conversation_id,
                       Conversation.objects.get(pk=later.conversation_id).case_id != case_id,
                       Case.objects.get(pk=case_id).status_id == resolved.id]
print(json.dumps(out))
'''


def test_case_pages_and_the_post_resolve_rule_on_postgresql(make_env):
    ran = subprocess.run([sys.executable, "-c", CASES], env=make_env(), cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout.strip().splitlines()[-1])
    assert out == {"anna": True, "ben": True, "admin_agent": True, "admin": True, "anna_keyset": True, "dated": True,
                   "dated_agent": True, "still_in_transaction": False,
                   "post_resolve": [True, True, True, True]}
