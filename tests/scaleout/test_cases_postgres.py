"""Cases on PostgreSQL (docs/adr/0018), where their statements differ from SQLite's: an
agent's pages walk their handler rows through a LATERAL subquery (cases/listing.py), checked
with every filter and pair of filters against the list's rules; and the post-resolve rule
sits inside the send's single statement. Run in a child process on the session's PostgreSQL database, as
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
from branchline.cases.models import Case
from branchline.conversations import actions
from branchline.conversations.models import Conversation
import itertools, os
from tests import factories
from tests.factories import principal
from tests.support import case_listing

# The session's database is shared with other child processes: names of our own, and the
# list's rules checked on the cases of our own line only (the viewers are all of it).
factories._n = itertools.count(1_000_000 + os.getpid() * 1000)
world = case_listing.varied_cases()
out = {"mismatches": case_listing.mismatches(world)}
topic, anna, resolved = factories.topic(world["line"]), world["anna"], world["resolved"]

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
    assert out == {"mismatches": [], "post_resolve": [True, True, True, True]}
