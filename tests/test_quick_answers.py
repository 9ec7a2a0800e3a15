"""Quick answers (issue 8, docs/protocol.md §14): administrators define them per line of
business and category; staff read their own line's active ones; the administration is scoped."""
import pytest

from branchline.knowledge.models import QuickAnswer
from tests import factories
from tests.test_administration import _admin, _post

pytestmark = pytest.mark.django_db


def _answer(line, category, title, body="Text", **fields):
    return QuickAnswer.objects.create(line_of_business=line, category=category, title=title, body=body, **fields)


def test_staff_read_their_lines_active_quick_answers_by_category(world):
    _answer(world.lob, "Greetings", "Hello", "Good morning, how can I help?", position=1)
    _answer(world.lob, "Cards", "Block a card", "I have blocked your card.")
    _answer(world.lob, "Greetings", "Goodbye", "Thank you for writing to us.", position=2)
    _answer(world.lob, "Greetings", "Old", "Retired text", is_active=False)
    _answer(world.other_lob, "Treasury", "FX", "Another line's")
    for user in (world.agent, world.supervisor, world.auditor):
        answer = factories.staff_browser(user).get("/api/staff/quick-answers")
        assert answer.status_code == 200
        assert [(a["category"], a["title"]) for a in answer.json()] == [
            ("Cards", "Block a card"), ("Greetings", "Hello"), ("Greetings", "Goodbye")]
    other = factories.staff_browser(world.outsider).get("/api/staff/quick-answers").json()
    assert [a["body"] for a in other] == ["Another line's"]


def test_customers_and_strangers_get_no_quick_answers(world):
    _answer(world.lob, "Greetings", "Hello")
    from django.test import Client

    assert Client().get("/api/staff/quick-answers").status_code == 401
    _customer, token = factories.customer_with_token()
    refused = Client().get("/api/staff/quick-answers", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert refused.status_code == 401


@pytest.mark.django_db(transaction=True)  # audit records are written by tasks
def test_administrators_write_quick_answers_of_their_line_only(world):
    admin = _admin(world.admin)
    added = _post(admin, "/admin/knowledge/quickanswer/add/", {
        "line_of_business": world.lob.id, "category": "Cards", "title": "Card blocked",
        "body": "Your card is blocked; a new one is on its way.", "is_active": "on", "position": 0})
    assert added.status_code == 302
    assert QuickAnswer.objects.get(title="Card blocked").line_of_business == world.lob
    sneaked = _post(admin, "/admin/knowledge/quickanswer/add/", {
        "line_of_business": world.other_lob.id, "category": "X", "title": "Sneaked", "body": "x", "position": 0})
    assert sneaked.status_code == 200 and not QuickAnswer.objects.filter(title="Sneaked").exists()
    # A distinctive title: a two-letter one turned up by chance in the page's random CSRF token
    theirs = _answer(world.other_lob, "Treasury", "Forward rate wording")
    assert "Forward rate wording" not in admin.get("/admin/knowledge/quickanswer/").content.decode()
    assert admin.get(f"/admin/knowledge/quickanswer/{theirs.id}/change/").status_code in (302, 404)
