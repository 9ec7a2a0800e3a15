"""Staff sign in with a second factor (docs/adr/0015): an authenticator app (TOTP) set up at
the first sign-in, and recovery codes. The password alone signs no one in: the session is
only pending until the code is right."""
import re

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from branchline.accounts.actions import second_factor
from branchline.audit.models import AuditRecord
from tests.factories import PASSWORD, csrf_browser, post_json
from tests.support.tasks import run_tasks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def required(settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "STAFF_SECOND_FACTOR": "required"}


def _code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=steps_ahead):06d}"


def _password(client, user):
    return post_json(client, "/api/staff/session", {"username": user.username, "password": PASSWORD})


def test_first_sign_in_sets_up_the_authenticator_then_the_password_alone_signs_no_one_in(world, required):
    client = csrf_browser()
    first = _password(client, world.agent)
    assert (first.status_code, first.json()) == (202, {"next": "enrol"})
    assert client.get("/api/staff/me").status_code == 401  # pending, not signed in

    enrolment = post_json(client, "/api/staff/session/totp-enrolment").json()
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/Branchline%3A") and "<svg" in enrolment["qr_svg"]
    assert f"secret={enrolment['secret']}" in enrolment["otpauth_uri"]
    device = TOTPDevice.objects.get(user=world.agent)
    assert not device.confirmed
    signed_in = post_json(client, "/api/staff/session/second-factor", {"code": _code(device)})
    assert signed_in.status_code == 200, signed_in.content
    codes = signed_in.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/api/staff/me").status_code == 200
    run_tasks()
    assert AuditRecord.objects.filter(event="staff.second_factor_enrolled", subject_id=world.agent.id).count() == 1

    # Next time: the password, then the code (not a second enrolment).
    client.delete("/api/staff/session", HTTP_X_CSRFTOKEN=client.csrf)
    again = csrf_browser()
    assert _password(again, world.agent).json() == {"next": "second_factor"}
    enrol_again = post_json(again, "/api/staff/session/totp-enrolment")
    assert (enrol_again.status_code, enrol_again.json()["error"]["code"]) == (401, "already_enrolled")
    wrong = post_json(again, "/api/staff/session/second-factor", {"code": "000000" if _code(device) != "000000" else "111111"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "bad_code")
    assert again.get("/api/staff/me").status_code == 401
    device.refresh_from_db()
    ok = post_json(again, "/api/staff/session/second-factor", {"code": _code(device, steps_ahead=1)})
    assert ok.status_code == 200 and ok.json()["recovery_codes"] is None


def test_a_recovery_code_signs_in_once(world, required):
    client = csrf_browser()
    _password(client, world.agent)
    post_json(client, "/api/staff/session/totp-enrolment")
    codes = post_json(client, "/api/staff/session/second-factor",
                  {"code": _code(TOTPDevice.objects.get(user=world.agent))}).json()["recovery_codes"]
    for attempt, expected in ((1, 200), (2, 401)):
        browser = csrf_browser()
        _password(browser, world.agent)
        response = post_json(browser, "/api/staff/session/second-factor", {"code": codes[0]})
        assert response.status_code == expected, attempt
    assert StaticToken.objects.filter(device__user=world.agent).count() == 9


def test_the_same_authenticator_code_cannot_be_used_twice(world, required):
    client = csrf_browser()
    _password(client, world.agent)
    post_json(client, "/api/staff/session/totp-enrolment")
    device = TOTPDevice.objects.get(user=world.agent)
    code = _code(device)
    assert post_json(client, "/api/staff/session/second-factor", {"code": code}).status_code == 200
    replay = csrf_browser()
    _password(replay, world.agent)
    assert post_json(replay, "/api/staff/session/second-factor", {"code": code}).status_code == 401


def test_no_code_without_the_password_first(world, required):
    client = csrf_browser()
    response = post_json(client, "/api/staff/session/second-factor", {"code": "123456"})
    assert (response.status_code, response.json()["error"]["code"]) == (401, "password_first")
    assert post_json(client, "/api/staff/session/totp-enrolment").status_code == 401


def test_guessing_codes_is_throttled_like_guessing_passwords(world, required, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "SIGN_IN_FAILURES_PER_ACCOUNT_AND_ADDRESS": 3}
    client = csrf_browser()
    _password(client, world.agent)
    post_json(client, "/api/staff/session/totp-enrolment")
    device = TOTPDevice.objects.get(user=world.agent)
    statuses = [post_json(client, "/api/staff/session/second-factor", {"code": f"{n:06d}"}).status_code
                for n in range(4) if f"{n:06d}" != _code(device)][:4]
    assert statuses[-1] == 429
    assert post_json(client, "/api/staff/session/second-factor", {"code": _code(device)}).status_code == 429


def test_optional_second_factor_asks_only_those_who_set_one_up(world):
    client = csrf_browser()
    assert _password(client, world.agent).status_code == 200  # demo and tests: optional, none set up
    TOTPDevice.objects.create(user=world.agent2, name="authenticator", confirmed=True)
    other = csrf_browser()
    assert _password(other, world.agent2).json() == {"next": "second_factor"}


def test_the_console_sets_up_the_authenticator_and_shows_the_recovery_codes_once(world, required):
    client = Client()
    page = client.post("/console/login/", {"username": world.agent.username, "password": PASSWORD})
    assert page.status_code == 302 and page["Location"].endswith("/console/login/second-factor/")
    form = client.get("/console/login/second-factor/")
    assert b"Set up your second factor" in form.content and b"<svg" in form.content
    secret = re.search(rb'id="totp-secret">([A-Z2-7]+)<', form.content).group(1)
    assert secret
    done = client.post("/console/login/second-factor/", {"code": _code(TOTPDevice.objects.get(user=world.agent))})
    assert done.status_code == 200 and done.content.count(b"<li><code>") == 10
    assert client.get("/console/").status_code == 200


def test_a_pending_sign_in_that_ran_out_sends_the_console_back_to_the_password(world, required):
    client = Client()
    client.post("/console/login/", {"username": world.agent.username, "password": PASSWORD})
    session = client.session
    session[second_factor.PENDING] = {**session[second_factor.PENDING], "at": 0}  # long ago
    session.save()
    for response in (client.get("/console/login/second-factor/"),
                     client.post("/console/login/second-factor/", {"code": "123456"})):
        assert (response.status_code, response["Location"]) == (302, "/console/login/")
