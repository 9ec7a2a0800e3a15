"""The conversation's language and the customer's tone (issue 8, docs/adr/0023): computed on the
server with no network call, for Polish, Russian, English and Italian at least, and shown to
staff who may see the conversation."""
import socket

import pytest

from branchline.conversations import actions
from branchline.core import language, sentiment
from tests import factories
from tests.factories import principal

SAMPLES = [  # text, language, tone
    ("Dzień dobry, zgubiłem kartę", "pl", "neutral"),
    ("Dziękuję bardzo, wszystko działa!", "pl", "positive"),
    ("Karta nie działa, to skandal!!", "pl", "negative"),
    ("Здравствуйте, у меня заблокировали карту", "ru", "neutral"),
    ("Спасибо, всё отлично!", "ru", "positive"),
    ("Приложение не работает, это ужасно", "ru", "negative"),
    ("Buongiorno, ho perso la carta di credito", "it", "neutral"),
    ("Grazie mille, molto gentile!", "it", "positive"),
    ("Non funziona niente, è inaccettabile", "it", "negative"),
    ("Hello, I lost my card yesterday", "en", "neutral"),
    ("Thanks a lot, that was really helpful", "en", "positive"),
    ("This is terrible, the app doesn't work", "en", "negative"),
]


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize(("text", "expected_language", "tone"), SAMPLES)
def test_language_and_tone_without_the_network(no_network, text, expected_language, tone):
    assert language.detect(text) == expected_language
    assert sentiment.label(sentiment.score(text, expected_language)) == tone


def test_the_rules_of_tone():
    score = sentiment.score
    assert score("Dzień dobry", "pl") == 0 and score("Добрый день", "ru") == 0  # a greeting is no mood
    assert score("działa", "pl") > 0 > score("nie działa", "pl")  # negation turns it around...
    assert score("nie działa, dziękuję", "pl") > score("nie działa dziękuję", "pl")  # ...until the clause ends
    assert score("very helpful", "en") > score("helpful", "en")  # intensifiers
    assert score("helpful!!", "en") > score("helpful", "en")
    assert score("ok 😡", "en") < 0 < score("ok 😊", "en")  # emoji
    assert -1 < score("terrible awful horrible worst " * 20, "en") < -0.99  # bounded
    assert score("Guten Tag, alles gut", "de") is None  # no lexicon: no guess
    assert set(sentiment.languages()) >= {"en", "pl", "ru", "it"}


def test_too_little_or_unclear_text_has_no_language():
    assert language.detect("ok") is None
    assert language.detect("123 456") is None
    assert language.detect("Привіт, я загубив картку") == "uk"  # Ukrainian letters


@pytest.mark.django_db
def test_staff_read_the_conversations_language_and_tone(world):
    customer = factories.customer(authenticated=True)
    me = principal(customer)
    first, _ = actions.customer_message_send(principal=me, body="Dzień dobry, zablokowano mi kartę",
                                             client_message_id="c-1", topic_id=world.topic.id)
    cid = first.conversation_id
    actions.conversation_accept(principal=principal(world.agent), conversation_id=cid)
    agent = factories.staff_browser(world.agent)
    url = f"/api/staff/conversations/{cid}/insights"
    assert agent.get(url).json() == {"language": "pl", "sentiment": "neutral", "sentiment_score": -0.25,
                                     "messages": 1}
    actions.customer_message_send(principal=me, body="Nadal nie działa, to skandal! Jestem wściekły",
                                  client_message_id="c-2")
    got = agent.get(url).json()
    assert (got["language"], got["sentiment"], got["messages"]) == ("pl", "negative", 2)
    actions.staff_message_send(principal=principal(world.agent), conversation_id=cid, client_message_id="a-1",
                               body="Thank you, wonderful, great!")  # staff's words are not the customer's mood
    assert agent.get(url).json()["sentiment"] == "negative"
    for who in (world.outsider, world.agent2):
        assert factories.staff_browser(who).get(url).status_code == 404
