"""Customers sign in through a real OpenID provider (tests/idp: node-oidc-provider) with the
authorization code flow and PKCE; the app exchanges its own ID token. Every refusal
creates nothing: no customer, no session."""
import json
import socket
import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from branchline.accounts import oidc
from branchline.accounts.actions import customer_session_start, sign_ins_purge
from branchline.accounts.models import ClaimMapping, CustomerSession, SsoSignIn, WebSession, token_digest
from branchline.contacts.models import Customer
from branchline.conversations import actions
from branchline.conversations.models import Conversation, Message
from tests import factories
from tests.factories import principal
from tests.support.idp import IdentityProvider, handed_over, sign_in, unsigned

pytestmark = pytest.mark.django_db

REDIRECT_URI = "http://testserver/sso/callback"
WEB, APP = "branchline-web", "branchline-app"
ACCOUNTS = {
    "jan": {"password": "jan-password", "claims": {"name": "Jan Kowalski", "customer_number": "100200",
                                                   "segment": "Premium", "email": "jan@example.test"}},
    "ewa": {"password": "ewa-password", "claims": {"given_name": "Ewa", "family_name": "Nowak"}},
}


@pytest.fixture(scope="module")
def idp():
    provider = IdentityProvider(
        clients=[{"client_id": WEB, "client_secret": "web-secret", "redirect_uris": [REDIRECT_URI]},
                 {"client_id": APP, "client_secret": "app-secret", "redirect_uris": ["bank.app:/callback"]}],
        accounts=ACCOUNTS)
    with provider:
        yield provider


@pytest.fixture
def sso(idp, settings):
    # The migration's default mapping, set here: a transactional test elsewhere may have flushed it.
    ClaimMapping.objects.all().delete()
    ClaimMapping.objects.bulk_create([ClaimMapping(claim="customer_number", label="Customer number", position=0),
                                      ClaimMapping(claim="segment", label="Segment", position=1)])
    settings.CUSTOMER_OIDC = {**settings.CUSTOMER_OIDC, "ISSUER": idp.issuer, "CLIENT_ID": WEB,
                              "CLIENT_SECRET": "web-secret", "REDIRECT_URI": REDIRECT_URI,
                              "SCOPES": "openid profile bank", "MOBILE_CLIENT_IDS": [APP]}
    return idp


def _start(client: Client, silent=False, token=None) -> str:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = client.post("/api/customer/sso/start", json.dumps({"silent": silent}), content_type="application/json",
                           **headers)
    assert response.status_code == 200, response.content
    client.sso_binding = response.json()["binding"]  # what the widget keeps for the redeem
    return response.json()["authorize_url"]


def _callback(client: Client, location: str):
    """The browser arrives back at our callback; returns what its page hands the widget."""
    assert location.startswith(REDIRECT_URI), location
    response = client.get("/sso/callback?" + urlsplit(location).query)
    assert response.status_code == 200
    assert (response["Cross-Origin-Opener-Policy"], response["Cache-Control"]) == ("unsafe-none", "no-store")
    return handed_over(response.content.decode())


def _browser_sign_in(client: Client, browser: httpx.Client, login="jan", silent=False) -> dict:
    response = sign_in(browser, _start(client, silent=silent), login, ACCOUNTS[login]["password"])
    assert response.status_code in (302, 303), response.text[:500]
    return _callback(client, response.headers["location"])


def _redeem(client: Client, code: str, binding: str | None = None):
    body = {"code": code, "binding": binding if binding is not None else client.sso_binding}
    return client.post("/api/customer/sessions/sso", json.dumps(body), content_type="application/json")


def _nothing_created(before: tuple[int, int]):
    assert (Customer.objects.count(), CustomerSession.objects.count()) == before


def _counts():
    return Customer.objects.count(), CustomerSession.objects.count()


def test_a_customer_signs_in_with_the_bank_and_is_known_by_issuer_and_subject(sso):
    client = Client()
    with httpx.Client() as browser:
        fragment = _browser_sign_in(client, browser)
        response = _redeem(client, fragment["sso"])
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["customer"] == {"id": body["customer"]["id"], "name": "Jan Kowalski", "authenticated": True}
        customer = Customer.objects.get(pk=body["customer"]["id"])
        assert (customer.sso_issuer, customer.sso_subject, customer.is_authenticated) == (sso.issuer, "jan", True)
        # The claim mapping decides what agents see; the e-mail is not mapped, so not kept.
        assert customer.claims == {"customer_number": {"label": "Customer number", "value": "100200"},
                                   "segment": {"label": "Segment", "value": "Premium"}}
        assert customer.email == ""
        me = client.get("/api/customer/me", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
        assert me.status_code == 200, me.content

        # The hand-over code works once.
        assert _redeem(client, fragment["sso"]).json()["error"]["code"] == "sso_code_invalid"

        # Signing in again (the provider remembers the browser: no form) is the same customer.
        again = _redeem(client, _browser_sign_in(client, browser)["sso"])
        assert again.status_code == 201
        assert again.json()["customer"]["id"] == customer.id
    assert Customer.objects.filter(sso_subject="jan").count() == 1


def test_given_and_family_name_make_the_name_when_the_provider_sends_no_name(sso):
    client = Client()
    with httpx.Client() as browser:
        body = _redeem(client, _browser_sign_in(client, browser, login="ewa")["sso"]).json()
    assert body["customer"]["name"] == "Ewa Nowak"


def test_a_sign_in_brought_into_another_browser_is_useless_there(sso):
    """Login CSRF: an attacker signs in as themselves and makes a victim's browser finish
    it (the callback URL, or the #sso= code). The victim's widget does not hold that
    sign-in's binding, so it is refused and nobody is signed in as the attacker there."""
    attacker, victim = Client(), Client()
    with httpx.Client() as attackers_browser:
        response = sign_in(attackers_browser, _start(attacker), "jan", "jan-password")
    _start(victim)  # the victim's widget has a sign-in of its own in progress, or none
    fragment = _callback(victim, response.headers["location"])  # the victim's browser follows the link
    before = _counts()
    refused = _redeem(victim, fragment["sso"])
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "sso_code_invalid")
    _nothing_created(before)
    assert _redeem(victim, fragment["sso"], binding="").status_code == 401
    assert _redeem(attacker, fragment["sso"]).status_code == 201  # the attacker's own widget could


def test_a_replayed_state_is_refused_and_creates_nothing(sso):
    client = Client()
    with httpx.Client() as browser:
        response = sign_in(browser, _start(client), "jan", "jan-password")
    location = response.headers["location"]
    first = _callback(client, location)
    assert "sso" in first
    before = _counts()
    assert _callback(client, location) == {"sso_error": "sso_state_invalid"}
    _nothing_created(before)


def test_a_code_from_another_sign_in_is_refused(sso):
    """The state names this sign-in's PKCE verifier and nonce; a code issued to another
    sign-in (another browser's, a stolen one) cannot complete it."""
    client = Client()
    with httpx.Client() as browser:
        mine = urlsplit(sign_in(browser, _start(client), "jan", "jan-password").headers["location"]).query
    with httpx.Client() as other_browser:
        theirs = urlsplit(sign_in(other_browser, _start(client), "ewa", "ewa-password").headers["location"]).query
    spliced = f"code={parse_qs(theirs)['code'][0]}&state={parse_qs(mine)['state'][0]}"
    before = _counts()
    assert _callback(client, f"{REDIRECT_URI}?{spliced}") == {"sso_error": "sso_token_invalid"}
    _nothing_created(before)


def test_a_response_naming_another_issuer_is_refused(sso):
    """RFC 9207 (the provider names itself in the response): a mix-up with another provider."""
    client = Client()
    with httpx.Client() as browser:
        location = sign_in(browser, _start(client), "jan", "jan-password").headers["location"]
    assert f"iss={quote(sso.issuer, safe='')}" in location  # node-oidc-provider sends it
    before = _counts()
    evil = location.replace(f"iss={quote(sso.issuer, safe='')}", "iss=http%3A%2F%2F127.0.0.1%3A1%2Fevil")
    assert _callback(client, evil) == {"sso_error": "sso_issuer_mismatch"}
    _nothing_created(before)


def test_an_unknown_or_expired_state_is_refused(sso):
    client = Client()
    assert _callback(client, f"{REDIRECT_URI}?code=x&state=never-issued") == {"sso_error": "sso_state_invalid"}
    url = _start(client)
    state = parse_qs(urlsplit(url).query)["state"][0]
    SsoSignIn.objects.update(expires_at="2000-01-01T00:00:00Z")  # stands in for ten minutes passing
    assert _callback(client, f"{REDIRECT_URI}?code=x&state={state}") == {"sso_error": "sso_state_invalid"}


def test_the_authorization_request_uses_pkce_s256_a_nonce_and_a_fresh_state(sso):
    client = Client()
    first, second = (parse_qs(urlsplit(_start(client)).query) for _ in range(2))
    assert first["code_challenge_method"] == ["S256"] and first["response_type"] == ["code"]
    assert first["client_id"] == [WEB] and first["redirect_uri"] == [REDIRECT_URI]
    for name in ("state", "nonce", "code_challenge"):
        assert first[name] != second[name] and len(first[name][0]) >= 43
    stored = SsoSignIn.objects.order_by("id").first()
    # Stored as a digest: the database alone cannot complete someone's sign-in.
    assert first["state"][0] not in stored.state_hash


def test_silent_sign_in_needs_no_form_when_signed_in_at_the_bank_and_says_so_when_not(sso):
    client = Client()
    with httpx.Client() as browser:
        _redeem(client, _browser_sign_in(client, browser)["sso"])
        response = sign_in(browser, _start(client, silent=True), "nobody", "no-form-expected")
        assert "code=" in response.headers["location"]
        assert _redeem(client, _callback(client, response.headers["location"])["sso"]).status_code == 201
    before = _counts()
    with httpx.Client() as stranger:
        response = stranger.get(_start(client, silent=True), follow_redirects=False)
        while response.status_code in (302, 303) and response.headers["location"].startswith(sso.issuer):
            response = stranger.get(response.headers["location"], follow_redirects=False)
        assert _callback(client, response.headers["location"]) == {"sso_error": "sso_login_required"}
    _nothing_created(before)


# --- The mobile app's token exchange: the verification every ID token goes through ------------

def _app_claims(idp, **changes) -> dict:
    now = int(time.time())
    claims = {"iss": idp.issuer, "sub": "jan", "aud": APP, "iat": now, "exp": now + 300, "name": "Jan Kowalski",
              "customer_number": "100200"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _exchange(client: Client, token):
    return client.post("/api/customer/sessions/oidc-token", json.dumps({"id_token": token}),
                       content_type="application/json")


def test_the_app_exchanges_its_id_token_once(sso):
    client = Client()
    token = sso.mint(_app_claims(sso))
    response = _exchange(client, token)
    assert response.status_code == 201, response.content
    assert response.json()["customer"]["name"] == "Jan Kowalski"
    before = _counts()
    replay = _exchange(client, token)
    assert (replay.status_code, replay.json()["error"]["code"]) == (401, "sso_token_replayed")
    _nothing_created(before)


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    return ".".join((header, flipped, signature))


@pytest.mark.parametrize("make", [
    pytest.param(lambda idp: _tampered(idp.mint(_app_claims(idp))), id="tampered"),
    pytest.param(lambda idp: idp.mint(_app_claims(idp, aud="someone-else")), id="wrong-audience"),
    pytest.param(lambda idp: idp.mint(_app_claims(idp, aud=WEB)), id="the-web-client-audience"),
    pytest.param(lambda idp: idp.mint(_app_claims(idp, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
                 id="expired"),
    pytest.param(lambda idp: idp.mint(_app_claims(idp, iss="http://127.0.0.1:1/evil")), id="wrong-issuer"),
    pytest.param(lambda idp: unsigned(_app_claims(idp)), id="alg-none"),
    pytest.param(lambda idp: idp.mint(_app_claims(idp), alg="HS256",
                                      key={"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg"}),
                 id="hs256-shared-secret"),
    pytest.param(lambda idp: IdentityProvider(clients=[], accounts={}).mint(_app_claims(idp)), id="another-key"),
    pytest.param(lambda idp: idp.mint(_app_claims(idp, sub=None)), id="no-subject"),
    pytest.param(lambda idp: idp.mint(_app_claims(idp, iat=None)), id="no-issued-at"),
    pytest.param(lambda idp: idp.mint(_app_claims(idp, iat=int(time.time()) - 3600)), id="issued-an-hour-ago"),
    pytest.param(lambda idp: "not.a.jwt", id="garbage"),
])
def test_a_token_the_bank_did_not_issue_for_us_is_refused_and_creates_nothing(sso, make):
    client = Client()
    before = _counts()
    response = _exchange(client, make(sso))
    assert (response.status_code, response.json()["error"]["code"]) == (401, "sso_token_invalid")
    _nothing_created(before)


def test_without_configuration_there_is_no_bank_sign_in(settings):
    settings.CUSTOMER_OIDC = {**settings.CUSTOMER_OIDC, "ISSUER": "", "CLIENT_ID": ""}
    client = Client()
    response = client.post("/api/customer/sso/start", "{}", content_type="application/json")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "sso_not_configured")
    assert _exchange(client, "x.y.z").status_code == 404


@pytest.fixture
def silent_server():
    """A TCP server that accepts and never answers (a provider that hangs), or with
    `drip` answers a byte every 0.2 s (one that never finishes)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held, stop = [], threading.Event()
    mode = {"drip": False}

    def drip(conn):
        try:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            while not stop.is_set():
                conn.sendall(b" ")
                time.sleep(0.2)
        except OSError:
            pass

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn = listener.accept()[0]
            except OSError:
                continue
            held.append(conn)
            if mode["drip"]:
                threading.Thread(target=drip, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    yield url, mode
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    listener.close()


def _start_status(started_at=None):
    response = Client().post("/api/customer/sso/start", "{}", content_type="application/json")
    return response.status_code, response.json()["error"]["code"]


@pytest.mark.parametrize("kind", ["down", "hangs", "drips"])
def test_a_provider_that_is_down_or_hangs_answers_503_quickly_and_is_not_asked_again_at_once(
        settings, silent_server, kind):
    url, mode = silent_server
    mode["drip"] = kind == "drips"
    issuer = url if kind != "down" else "http://127.0.0.1:9"
    settings.CUSTOMER_OIDC = {**settings.CUSTOMER_OIDC, "ISSUER": issuer, "CLIENT_ID": WEB, "TIMEOUT_SECONDS": 0.5}
    oidc.customers.cache.clear()
    started = time.monotonic()
    assert _start_status() == (503, "sso_unavailable")
    assert time.monotonic() - started < 2
    # Meanwhile the next sign-ins are refused at once, without waiting on the provider again.
    again = time.monotonic()
    assert [_start_status() for _ in range(5)] == [(503, "sso_unavailable")] * 5
    assert time.monotonic() - again < 0.5
    assert not SsoSignIn.objects.exists()


# --- Step-up: a guest signs in during a chat -------------------------------------------------

def _guest_chat(client: Client, world) -> tuple[str, int]:
    token = client.post("/api/customer/sessions/anonymous").json()["token"]
    sent = client.post("/api/customer/messages", json.dumps({"body": "Hello, my card is blocked",
                                                              "client_message_id": "g-1", "topic_id": world.topic.id}),
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert sent.status_code == 201, sent.content
    return token, sent.json()["message"]["conversation_id"]


@pytest.mark.parametrize("known_before", [False, True], ids=["first-sign-in", "known-customer"])
def test_a_guest_who_signs_in_mid_chat_keeps_the_conversation_and_the_agent_sees_who_it_is(
        sso, world, capture_events, known_before):
    client = Client()
    with httpx.Client() as browser:
        if known_before:  # Jan signed in once before, elsewhere: his customer row exists
            _redeem(client, _browser_sign_in(client, browser)["sso"])
        guest_token, conversation_id = _guest_chat(client, world)
        agent = factories.staff_browser(world.agent)
        assert agent.post(f"/api/staff/conversations/{conversation_id}/accept",
                          HTTP_X_CSRFTOKEN=agent.csrf).status_code == 200
        guest_id = Customer.objects.filter(conversations__id=conversation_id).get().id
        response = sign_in(browser, _start(client, token=guest_token), "jan", "jan-password")
        fragment = _callback(client, response.headers["location"])
        with capture_events() as events:
            redeemed = _redeem(client, fragment["sso"])
    assert redeemed.status_code == 201, redeemed.content
    jan = redeemed.json()
    assert jan["customer"]["name"] == "Jan Kowalski" and jan["customer"]["authenticated"]

    # The conversation is Jan's now, whole: nothing lost, nothing written twice.
    me = client.get("/api/customer/me", HTTP_AUTHORIZATION=f"Bearer {jan['token']}").json()
    assert me["conversation"]["id"] == conversation_id
    page = client.get("/api/customer/messages", HTTP_AUTHORIZATION=f"Bearer {jan['token']}").json()["messages"]
    assert [m["text"] for m in page if m["sender"] != "system"] == ["Hello, my card is blocked"]
    assert (page[-1]["system_code"], page[-1]["text"]) == ("customer_signed_in", "Jan Kowalski signed in with the bank.")
    assert Customer.objects.filter(sso_subject="jan").count() == 1
    assert not Message.objects.filter(customer_id=guest_id).exists()

    # The guest's token is over, and its sockets are told to close.
    assert client.get("/api/customer/me", HTTP_AUTHORIZATION=f"Bearer {guest_token}").status_code == 401
    assert any(e["t"] == "session.ended" for e in events)

    # The agent sees who it is, live and on reading.
    updates = [e for e in events if e["t"] == "conversation.updated" and f"staff:{world.agent.id}" in e["a"]]
    assert updates and updates[-1]["d"]["conversation"]["customer"]["name"] == "Jan Kowalski"
    seen = agent.get(f"/api/staff/conversations/{conversation_id}").json()
    assert seen["customer"] == {"id": jan["customer"]["id"], "name": "Jan Kowalski", "authenticated": True,
                                "details": [{"label": "Customer number", "value": "100200"},
                                            {"label": "Segment", "value": "Premium"}], "barred": False,
                                "contact": None}
    # What the claim mapping shows is for staff: the customer's own views do not carry it.
    assert "details" not in jan["customer"] and "Customer number" not in json.dumps(me)
    to_customer = [e for e in events if any(a.startswith("customer:") for a in e["a"])]
    assert to_customer and "Customer number" not in json.dumps(to_customer)


def test_a_guest_who_signs_in_as_a_barred_customer_is_ended_and_reaches_nobody(sso, world, capture_events):
    """Barred as Jan earlier: signing in from a guest chat ends it, and Jan's next message is refused."""
    client = Client()
    with httpx.Client() as browser:
        jan = _redeem(client, _browser_sign_in(client, browser)["sso"]).json()
        first = client.post("/api/customer/messages", json.dumps({"body": "Spam", "client_message_id": "j-1",
                                                                    "topic_id": world.topic.id}),
                            content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {jan['token']}")
        actions.customer_bar(principal=principal(world.supervisor),
                             conversation_id=first.json()["message"]["conversation_id"], reason="Spamming")
        guest_token, conversation_id = _guest_chat(client, world)
        response = sign_in(browser, _start(client, token=guest_token), "jan", "jan-password")
        with capture_events() as events:
            redeemed = _redeem(client, _callback(client, response.headers["location"])["sso"])
    assert redeemed.status_code == 201, redeemed.content
    ended = Conversation.objects.get(pk=conversation_id)
    assert (ended.state, ended.end_reason, ended.customer.sso_subject) == ("ended", "barred", "jan")
    assert not any(e["t"] == "message.created" and e["d"]["message"]["system_code"] == "customer_signed_in"
                   for e in events)
    refused = client.post("/api/customer/messages", json.dumps({"body": "Hello?", "client_message_id": "j-2",
                                                                  "topic_id": world.topic.id}),
                          content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {redeemed.json()['token']}")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "customer_barred")
    assert not Message.objects.filter(body="Hello?").exists()


def test_a_step_up_where_the_guest_and_the_customer_used_the_same_client_id_keeps_both_messages(sso, world):
    client = Client()
    with httpx.Client() as browser:
        jan = _redeem(client, _browser_sign_in(client, browser)["sso"]).json()
        mine = client.post("/api/customer/messages", json.dumps({"body": "From my phone", "client_message_id": "m-1",
                                                                   "topic_id": world.topic.id}),
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {jan['token']}")
        assert mine.status_code == 201
        guest_token = client.post("/api/customer/sessions/anonymous").json()["token"]
        guest = client.post("/api/customer/messages", json.dumps({"body": "From the desk", "client_message_id": "m-1",
                                                                    "topic_id": world.topic.id}),
                            content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {guest_token}")
        assert guest.status_code == 201
        response = sign_in(browser, _start(client, token=guest_token), "jan", "jan-password")
        redeemed = _redeem(client, _callback(client, response.headers["location"])["sso"])
    assert redeemed.status_code == 201, redeemed.content
    bodies = sorted(Message.objects.filter(customer__sso_subject="jan", sender="customer").values_list("body", flat=True))
    assert bodies == ["From my phone", "From the desk"]
    # The newest open conversation (the desk's) is the current one; the phone's stays open for its agent.
    me = client.get("/api/customer/me", HTTP_AUTHORIZATION=f"Bearer {redeemed.json()['token']}").json()
    assert me["conversation"]["id"] == guest.json()["message"]["conversation_id"]


def test_a_sign_in_started_with_someone_elses_token_is_refused(sso):
    client = Client()
    response = client.post("/api/customer/sso/start", "{}", content_type="application/json",
                           HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401
    assert not SsoSignIn.objects.exists()


# --- Back-channel logout: what the provider sends is checked like an ID token -----------------

def _logout_claims(idp, **changes) -> dict:
    now = int(time.time())
    claims = {"iss": idp.issuer, "aud": WEB, "iat": now, "exp": now + 120, "jti": f"jti-{time.monotonic_ns()}",
              "sub": "jan", "sid": "sid-desk", "events": {oidc.BACKCHANNEL_LOGOUT_EVENT: {}}}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture
def jan_on_two_devices(sso):
    jan = Customer.objects.create(is_authenticated=True, sso_issuer=sso.issuer, sso_subject="jan", name="Jan")
    desk = customer_session_start(customer=jan, sso_sid="sid-desk")
    phone = customer_session_start(customer=jan, sso_sid="sid-phone")
    return desk, phone


def _still_signed_in(*tokens) -> list[bool]:
    return [CustomerSession.objects.get(token_hash=token_digest(t)).revoked_at is None for t in tokens]


def test_a_back_channel_logout_ends_the_sign_ins_of_that_provider_session(sso, jan_on_two_devices, capture_events):
    desk, phone = jan_on_two_devices
    with capture_events() as events:
        response = Client().post("/sso/backchannel-logout", {"logout_token": sso.mint(_logout_claims(sso))})
    assert (response.status_code, response["Cache-Control"]) == (200, "no-store")
    assert _still_signed_in(desk, phone) == [False, True]
    assert [e["d"]["session"] for e in events if e["t"] == "session.ended"] == [token_digest(desk)]


def test_a_logout_token_is_taken_once(sso, jan_on_two_devices):
    desk, phone = jan_on_two_devices
    token = sso.mint(_logout_claims(sso, sid="sid-phone"))
    assert Client().post("/sso/backchannel-logout", {"logout_token": token}).status_code == 200
    # Replayed later (after Jan signed in on the phone again): refused, nothing ended.
    again = customer_session_start(customer=Customer.objects.get(sso_subject="jan"), sso_sid="sid-phone")
    assert Client().post("/sso/backchannel-logout", {"logout_token": token}).status_code == 400
    assert _still_signed_in(desk, phone, again) == [True, False, True]


def test_a_logout_from_the_app_ends_the_apps_sign_in(sso, settings, jan_on_two_devices):
    settings.CUSTOMER_OIDC = {**settings.CUSTOMER_OIDC, "MOBILE_CLIENT_IDS": [APP]}
    desk, phone = jan_on_two_devices
    response = Client().post("/sso/backchannel-logout", {"logout_token": sso.mint(_logout_claims(sso, aud=APP,
                                                                                                 sid="sid-phone"))})
    assert response.status_code == 200
    assert _still_signed_in(desk, phone) == [True, False]


def test_a_back_channel_logout_naming_only_the_subject_ends_all_their_bank_sign_ins(sso, jan_on_two_devices):
    response = Client().post("/sso/backchannel-logout", {"logout_token": sso.mint(_logout_claims(sso, sid=None))})
    assert response.status_code == 200
    assert _still_signed_in(*jan_on_two_devices) == [False, False]


@pytest.mark.parametrize("make", [
    pytest.param(lambda idp: idp.mint(_logout_claims(idp, events=None)), id="no-logout-event"),
    pytest.param(lambda idp: idp.mint(_logout_claims(idp, nonce="n")), id="with-a-nonce"),
    pytest.param(lambda idp: idp.mint(_logout_claims(idp, aud="someone-else")), id="wrong-audience"),
    pytest.param(lambda idp: idp.mint(_logout_claims(idp, iss="http://127.0.0.1:1/evil")), id="wrong-issuer"),
    pytest.param(lambda idp: idp.mint(_logout_claims(idp, jti=None)), id="no-jti"),
    pytest.param(lambda idp: idp.mint(_logout_claims(idp, sub=None, sid=None)), id="names-no-one"),
    pytest.param(lambda idp: idp.mint(_logout_claims(idp, sub="", sid="")), id="names-empty"),
    pytest.param(lambda idp: idp.mint(_logout_claims(idp, exp=None)), id="no-expiry"),
    pytest.param(lambda idp: idp.mint(_logout_claims(idp, iat=int(time.time()) - 3600)), id="issued-long-ago"),
    pytest.param(lambda idp: unsigned(_logout_claims(idp)), id="alg-none"),
    pytest.param(lambda idp: IdentityProvider(clients=[], accounts={}).mint(_logout_claims(idp)), id="another-key"),
    pytest.param(lambda idp: "", id="missing"),
])
def test_a_logout_token_we_cannot_accept_is_refused_and_ends_nothing(sso, jan_on_two_devices, make):
    response = Client().post("/sso/backchannel-logout", {"logout_token": make(sso)})
    assert response.status_code == 400
    assert _still_signed_in(*jan_on_two_devices) == [True, True]


# --- The claim mapping, set by an administrator -----------------------------------------------

def test_an_administrator_chooses_which_claims_agents_see_from_the_next_sign_in(sso, world):
    admin = factories.staff_browser(world.admin)
    assert admin.get("/api/admin/sso-claims").json() == {"claims": [
        {"claim": "customer_number", "label": "Customer number"}, {"claim": "segment", "label": "Segment"}]}
    changed = admin.put("/api/admin/sso-claims", json.dumps({"claims": [{"claim": "segment", "label": "Client tier"},
                                                                        {"claim": "name", "label": "Name at the bank"}]}),
                        content_type="application/json", HTTP_X_CSRFTOKEN=admin.csrf)
    assert changed.status_code == 200, changed.content
    client = Client()
    with httpx.Client() as browser:
        _redeem(client, _browser_sign_in(client, browser)["sso"])
    jan = Customer.objects.get(sso_subject="jan")
    assert jan.claims == {"segment": {"label": "Client tier", "value": "Premium"},
                          "name": {"label": "Name at the bank", "value": "Jan Kowalski"}}


@pytest.mark.parametrize("claims", [
    [{"claim": "sub", "label": "Subject"}],
    [{"claim": "nonce", "label": "Nonce"}],
    [{"claim": "segment", "label": "A"}, {"claim": "segment", "label": "B"}],
    [{"claim": "segment", "label": ""}],
    [{"claim": "segment", "label": "x" * 65}],
    [{"claim": "bad claim!", "label": "X"}],
    [{"claim": f"c{n}", "label": "X"} for n in range(21)],
])
def test_a_claim_mapping_that_cannot_be_right_is_refused_and_changes_nothing(sso, world, claims):
    admin = factories.staff_browser(world.admin)
    before = list(ClaimMapping.objects.values_list("claim", "label"))
    response = admin.put("/api/admin/sso-claims", json.dumps({"claims": claims}), content_type="application/json",
                         HTTP_X_CSRFTOKEN=admin.csrf)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "claims_invalid")
    assert list(ClaimMapping.objects.values_list("claim", "label")) == before


def test_ended_sign_ins_and_expired_staff_sessions_are_purged_after_their_keeping_time(db):
    now = timezone.now()
    jan = Customer.objects.create(is_authenticated=True, sso_issuer="https://bank", sso_subject="jan")
    fresh, old, revoked_long_ago = (customer_session_start(customer=jan) for _ in range(3))
    CustomerSession.objects.filter(token_hash=token_digest(old)).update(expires_at=now - timedelta(days=31))
    CustomerSession.objects.filter(token_hash=token_digest(revoked_long_ago)).update(revoked_at=now - timedelta(days=31))
    SsoSignIn.objects.create(state_hash="a" * 64, expires_at=now - timedelta(days=2))
    SsoSignIn.objects.create(state_hash="b" * 64, expires_at=now - timedelta(hours=1))  # an app token's, still guarding
    WebSession.objects.create(session_key="expired", session_data="", expire_date=now - timedelta(seconds=1))
    WebSession.objects.create(session_key="live", session_data="", expire_date=now + timedelta(minutes=5))
    assert sign_ins_purge(now=now) == 4
    assert list(WebSession.objects.values_list("session_key", flat=True)) == ["live"]
    assert list(CustomerSession.objects.values_list("token_hash", flat=True)) == [token_digest(fresh)]
    assert list(SsoSignIn.objects.values_list("state_hash", flat=True)) == ["b" * 64]
    assert sign_ins_purge(now=now) == 0
