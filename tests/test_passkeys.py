"""Passkeys (WebAuthn) as staff's second factor (docs/adr/0015), through the API with a
software authenticator (tests/support/webauthn.py): registered at the first sign-in, then
used to sign in; every answer that is not a fresh, right one from this person's passkey to
this server's challenge is refused and signs no one in. Chromium's own virtual
authenticator drives the console's page in tests/browser/test_staff_second_factor.py."""
import cbor2
import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from branchline.accounts.models import Passkey
from branchline.audit.models import AuditRecord
from tests.factories import PASSWORD, csrf_browser, post_json
from tests.support.tasks import run_tasks
from tests.support.webauthn import SoftPasskey

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = "http://testserver"  # Django's test client


@pytest.fixture
def required(settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "STAFF_SECOND_FACTOR": "required"}


def _pending(user):
    client = csrf_browser()
    response = post_json(client, "/api/staff/session", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 202, response.content
    return client


def _options(client, mode):
    response = post_json(client, "/api/staff/session/passkey-options")
    assert response.status_code == 200, response.content
    assert response.json()["mode"] == mode
    return response.json()["public_key"]


def _answer(client, credential):
    return post_json(client, "/api/staff/session/second-factor", {"passkey": credential})


def _signed_in(client) -> bool:
    return client.get("/api/staff/me").status_code == 200


def _enrolled(user) -> SoftPasskey:
    passkey = SoftPasskey(ORIGIN)
    client = _pending(user)
    assert _answer(client, passkey.create(_options(client, "register"))).status_code == 200
    return passkey


def test_a_passkey_registered_at_the_first_sign_in_signs_in_next_time(world, required):
    client = _pending(world.agent)
    options = _options(client, "register")
    assert options["rp"] == {"id": "testserver", "name": "Branchline"}
    assert options["user"]["name"] == world.agent.username and options["excludeCredentials"] == []
    passkey = SoftPasskey(ORIGIN)
    done = _answer(client, passkey.create(options))
    assert done.status_code == 200, done.content
    assert len(done.json()["recovery_codes"]) == 10  # the first second factor brings them
    assert _signed_in(client)
    stored = Passkey.objects.get(user=world.agent)
    assert stored.credential_id == passkey.id and stored.transports == ["internal"]
    run_tasks()
    assert AuditRecord.objects.get(event="staff.second_factor_enrolled", subject_id=world.agent.id).data["method"] \
        == "passkey"

    later = _pending(world.agent)
    assert post_json(later, "/api/staff/session/totp-enrolment").json()["error"]["code"] == "already_enrolled"
    options = _options(later, "sign_in")
    assert [c["id"] for c in options["allowCredentials"]] == [passkey.id]
    signed = _answer(later, passkey.get(options))
    assert signed.status_code == 200 and signed.json()["recovery_codes"] is None
    assert _signed_in(later)
    stored.refresh_from_db()
    assert stored.sign_count == 1 and stored.last_used_at is not None


@pytest.mark.parametrize("lie", ["origin", "rp_id", "challenge"])
def test_a_registration_for_another_site_or_challenge_is_refused(world, required, lie):
    client = _pending(world.agent)
    options = _options(client, "register")
    passkey = SoftPasskey(ORIGIN)
    if lie == "origin":
        credential = passkey.create(options, origin="https://phishing.example")
    elif lie == "rp_id":
        credential = passkey.create(options, rp_id="phishing.example")
    else:
        credential = passkey.create({**options, "challenge": "b3RoZXItY2hhbGxlbmdl"})
    refused = _answer(client, credential)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "bad_code")
    assert not _signed_in(client) and not Passkey.objects.exists()


@pytest.mark.parametrize("lie", ["origin", "rp_id", "count_back", "bad_signature", "replay", "no_challenge",
                                 "someone_elses"])
def test_a_sign_in_answer_that_is_not_fresh_and_right_is_refused(world, required, lie):
    passkey = _enrolled(world.agent)
    client = _pending(world.agent)
    options = _options(client, "sign_in")
    if lie == "origin":
        credential = passkey.get(options, origin="https://phishing.example")
    elif lie == "rp_id":
        credential = passkey.get(options, rp_id="phishing.example")
    elif lie == "count_back":
        assert _answer(client, passkey.get(options)).status_code == 200
        client = _pending(world.agent)
        credential = passkey.get(_options(client, "sign_in"), count_back=True)  # a clone's counter
    elif lie == "bad_signature":
        credential = passkey.get(options, bad_signature=True)
    elif lie == "replay":  # the same answer again, to a new password step
        assert _answer(client, credential := passkey.get(options)).status_code == 200
        client = _pending(world.agent)
        _options(client, "sign_in")
    elif lie == "no_challenge":  # an answer to options this session never asked for
        credential = passkey.get(options)
        client = _pending(world.agent)
    else:  # agent's passkey, offered for agent2's pending sign-in
        _enrolled(world.agent2)
        client = _pending(world.agent2)
        credential = passkey.get(_options(client, "sign_in"))
    refused = _answer(client, credential)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "bad_code")
    assert not _signed_in(client)


def test_a_challenge_is_used_once_even_by_a_wrong_answer(world, required):
    passkey = _enrolled(world.agent)
    client = _pending(world.agent)
    options = _options(client, "sign_in")
    assert _answer(client, passkey.get(options, bad_signature=True)).status_code == 401
    assert _answer(client, passkey.get(options)).status_code == 401  # ask for new options first
    assert _answer(client, passkey.get(_options(client, "sign_in"))).status_code == 200


@pytest.mark.parametrize("body", [{"passkey": {}}, {"passkey": {"id": 5}}, {"passkey": {"id": "x", "response": 3}},
                                  {"passkey": {"id": "x", "type": "public-key", "response": {"clientDataJSON": "!"}}}])
def test_a_malformed_answer_is_refused_not_an_error(world, required, body):
    client = _pending(world.agent)
    _options(client, "register")
    refused = post_json(client, "/api/staff/session/second-factor", body)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "bad_code")
    assert not Passkey.objects.exists()


@pytest.mark.parametrize("body", [{}, {"code": "123456", "passkey": {}}, {"passkey": []}])
def test_a_code_or_a_passkey_exactly(world, required, body):
    client = _pending(world.agent)
    response = post_json(client, "/api/staff/session/second-factor", body)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid")


def test_no_passkey_can_be_added_by_someone_who_only_knows_the_password(world, required):
    """Register options handed out before an authenticator was set up (in another tab) are
    worthless once it is: adding a passkey then would need that authenticator's code."""
    client = _pending(world.agent)
    options = _options(client, "register")
    TOTPDevice.objects.create(user=world.agent, name="authenticator", confirmed=True)
    assert _answer(client, SoftPasskey(ORIGIN).create(options)).status_code == 401
    assert not Passkey.objects.exists() and not _signed_in(client)


def test_someone_with_an_authenticator_only_is_told_to_use_its_code(world, required):
    TOTPDevice.objects.create(user=world.agent, name="authenticator", confirmed=True)
    client = _pending(world.agent)
    response = post_json(client, "/api/staff/session/passkey-options")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "no_passkey")


def test_a_recovery_code_stands_in_for_a_lost_passkey(world, required):
    passkey = SoftPasskey(ORIGIN)
    client = _pending(world.agent)
    codes = _answer(client, passkey.create(_options(client, "register"))).json()["recovery_codes"]
    lost = _pending(world.agent)
    assert post_json(lost, "/api/staff/session/second-factor", {"code": codes[0]}).status_code == 200


def test_no_options_without_the_password_first_or_the_csrf_token(world, required):
    anonymous = csrf_browser()
    response = post_json(anonymous, "/api/staff/session/passkey-options")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "password_first")
    client = _pending(world.agent)
    forged = client.post("/api/staff/session/passkey-options")  # no X-CSRFToken
    assert (forged.status_code, forged.json()["error"]["code"]) == (403, "csrf_failed")


def test_wrong_passkey_answers_count_against_the_sign_in_budget(world, required, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "SIGN_IN_FAILURES_PER_ACCOUNT_AND_ADDRESS": 2}
    passkey = _enrolled(world.agent)
    client = _pending(world.agent)
    statuses = [_answer(client, passkey.get(_options(client, "sign_in"), bad_signature=True)).status_code
                for _ in range(3)]
    assert statuses == [401, 401, 429]
    assert _answer(client, passkey.get(_options(client, "sign_in"))).status_code == 429


def test_the_console_page_refuses_a_garbled_answer_with_its_message(world, required):
    client = _pending(world.agent)
    _options(client, "register")
    page = client.post("/console/login/second-factor/", {"passkey": "{not json", "csrfmiddlewaretoken": client.csrf})
    assert page.status_code == 401 and b"That passkey was not accepted." in page.content
    assert b'id="passkey-button"' in page.content and not _signed_in(client)


@pytest.mark.parametrize("spoil", ["key_is_a_list", "key_off_its_curve", "key_cut_short", "id_too_long"])
def test_a_passkey_that_could_never_sign_in_is_not_registered(world, required, spoil):
    """Each was once a 500 (the challenge then stayed usable and the failure uncounted) or a
    stored key no signature could ever verify."""
    passkey = SoftPasskey(ORIGIN)
    if spoil == "key_is_a_list":
        passkey._cose_key = lambda: cbor2.dumps([1, 2, 3])
    elif spoil == "key_off_its_curve":
        passkey._cose_key = lambda: cbor2.dumps({1: 2, 3: -7, -1: 1, -2: b"\x01" * 32, -3: b"\x02" * 32})
    elif spoil == "key_cut_short":
        passkey._cose_key = lambda: cbor2.dumps({1: 2, 3: -7, -1: 1, -2: b"\x01" * 5})
    else:
        passkey.credential_id = b"\x07" * 1100
    client = _pending(world.agent)
    refused = _answer(client, passkey.create(_options(client, "register")))
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "bad_code")
    assert not Passkey.objects.exists() and not _signed_in(client)
    assert _answer(client, passkey.create({"challenge": "x"})).status_code == 401  # the challenge was used
