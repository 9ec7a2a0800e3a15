"""The widget and the console in English, Polish and Russian (issue 8, docs/protocol.md §18):
every text the sources use is translated, the reader's choice (the language cookie) or their
browser's Accept-Language picks the language, the page says which (lang), and errors and
system lines come in it."""
import json
import re
import sys
from pathlib import Path

import pytest
from django.test import Client

from branchline.accounts.actions import customer_session_start
from branchline.conversations import actions
from tests import factories
from tests.factories import principal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import messages  # noqa: E402  (scripts/messages.py)

pytestmark = pytest.mark.django_db


def test_every_text_is_translated_and_compiled():
    assert messages.problems() == []


@pytest.mark.parametrize(("header", "cookie", "lang", "title"), [
    ("pl-PL,pl;q=0.9,en;q=0.5", None, "pl", "Czat z Twoim bankiem"),
    ("ru-RU,ru;q=0.9", None, "ru", "Чат с вашим банком"),
    ("de-DE,de;q=0.9", None, "en", "Chat with your bank"),  # not offered: English
    ("pl-PL,pl;q=0.9", "ru", "ru", "Чат с вашим банком"),  # the reader's choice wins
])
def test_the_reader_gets_their_language(header, cookie, lang, title):
    client = Client(HTTP_ACCEPT_LANGUAGE=header)
    if cookie:
        client.cookies["django_language"] = cookie
    page = client.get("/chat/").content.decode()
    assert f'<html lang="{lang}">' in page and title in page
    choices = json.loads(re.search(r'<script id="language-choices" type="application/json">(.*?)</script>',
                                   page).group(1))
    assert choices == [{"code": "en", "name": "English"}, {"code": "pl", "name": "polski"},
                       {"code": "ru", "name": "Русский"}]
    catalog = client.get("/jsi18n/").content.decode()
    send = {"pl": "Wyślij", "ru": "Отправить"}.get(lang)
    if send:
        assert json.dumps(send)[1:-1] in catalog or send in catalog


def test_errors_and_system_lines_in_the_readers_language(world):
    customer = factories.customer(authenticated=True)
    token = customer_session_start(customer=customer)
    polish = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="pl")
    refused = polish.post("/api/customer/messages", {"body": "   ", "client_message_id": "c-0",
                                                     "topic_id": world.topic.id}, content_type="application/json")
    assert refused.json()["error"] == {"code": "message_empty", "message": "Wiadomość jest pusta."}
    first, _ = actions.customer_message_send(principal=principal(customer), body="Dzień dobry",
                                             client_message_id="c-1", topic_id=world.topic.id)
    actions.conversation_accept(principal=principal(world.agent), conversation_id=first.conversation_id)
    actions.conversation_end(principal=principal(world.agent), conversation_id=first.conversation_id)
    lines = {m["system_code"]: m for m in polish.get("/api/customer/messages").json()["messages"]
             if m["system_code"]}
    name = world.agent.display_name
    assert lines["agent_joined"]["text"] == f"{name} dołącza do rozmowy."
    assert lines["ended"]["text"] == "Rozmowa została zakończona."
    # Clients word lines themselves from the same words and these params (lines.js).
    assert lines["agent_joined"]["params"]["agent"] == name
    russian = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="ru")
    texts = [m["text"] for m in russian.get("/api/customer/messages").json()["messages"]]
    assert "Разговор завершён." in texts and "Dzień dobry" in texts  # people's words stay theirs


def test_socket_events_are_worded_in_the_servers_language_whoever_acted(world, capture_events):
    customer = factories.customer(authenticated=True)
    first, _ = actions.customer_message_send(principal=principal(customer), body="Dzień dobry",
                                             client_message_id="c-1", topic_id=world.topic.id)
    polish_agent = factories.staff_browser(world.agent)
    polish_agent.defaults["HTTP_ACCEPT_LANGUAGE"] = "pl"
    with capture_events() as events:
        accepted = factories.post_json(polish_agent, f"/api/staff/conversations/{first.conversation_id}/accept")
    assert accepted.status_code == 200
    lines = [e["d"]["message"] for e in events if e["t"] == "message.created"]
    name = world.agent.display_name
    assert {line["text"] for line in lines} == {f"{name} joined the conversation."}  # the events
    assert all(line["params"]["agent"] == name for line in lines)  # ...and what clients word it with
