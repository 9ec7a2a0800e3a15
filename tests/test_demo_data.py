"""`make demo` loads a believable bank, and loading it again adds nothing."""
import pytest

from branchline.accounts.models import User
from branchline.cases.models import Case, Topic
from branchline.contacts.models import Customer
from branchline.conversations.models import Conversation, Message
from branchline.web.demo_data import DEMO_PASSWORD, seed

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (User, Topic, Customer, Case, Conversation, Message)]


def test_the_demo_bank_loads_once(client):
    seed()
    first = counts()
    seed()
    assert counts() == first
    assert {u.role for u in User.objects.all()} == {"agent", "supervisor", "admin", "auditor"}
    assert User.objects.filter(role="agent").count() == 3
    assert {t.name for t in Topic.objects.all()} == {"Cards", "Loans", "Mortgage", "Accounts"}
    assert Customer.objects.filter(is_authenticated=True).count() == 2
    # the demo customers have real history, every conversation in a case, all ended
    assert all(c.case_id for c in Conversation.objects.all())
    assert set(Conversation.objects.values_list("state", flat=True)) == {"ended"}
    assert client.login(username="anna", password=DEMO_PASSWORD)
