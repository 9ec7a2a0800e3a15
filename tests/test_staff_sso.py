"""Staff single sign-on through the bank's workforce provider (a real one, tests/idp): the
first sign-in links the account named by the username claim, later ones follow the link
only; the second factor still follows unless the provider's own multi-factor sign-in is
trusted; every refused return signs no one in."""
import re
from urllib.parse import urlsplit

import httpx
import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from branchline.accounts.actions import staff_sso
from branchline.accounts.models import StaffIdentity
from branchline.audit.models import AuditRecord
from tests.support.idp import IdentityProvider, sign_in
from tests.support.tasks import run_tasks

pytestmark = pytest.mark.django_db(transaction=True)  # the link is audited by a task

CALLBACK = "http://testserver/console/login/sso/callback"
CLIENT, SECRET = "branchline-console", "console-secret-0123456789"


@pytest.fixture(scope="module")
def workforce():
    provider = IdentityProvider(
        clients=[{"client_id": CLIENT, "client_secret": SECRET, "redirect_uris": [CALLBACK]}],
        accounts={"a.nowicka": {"password": "pw-anna", "claims": {"preferred_username": "anna-agent"}},
                  "b.carter": {"password": "pw-ben", "claims": {"preferred_username": "ben-agent"},
                               "amr": ["pwd", "mfa"]},
                  "nobody": {"password": "pw-nobody", "claims": {"preferred_username": "not-a-member"}},
                  "impostor": {"password": "pw-impostor", "claims": {"preferred_username": "anna-agent"}}})
    with provider:
        yield provider


@pytest.fixture
def staff_sso_on(workforce, settings, world):
    settings.STAFF_OIDC = {**settings.STAFF_OIDC, "ISSUER": workforce.issuer, "CLIENT_ID": CLIENT,
                           "CLIENT_SECRET": SECRET, "REDIRECT_URI": CALLBACK, "SCOPES": "openid profile"}
    world.agent.username, world.agent2.username = "anna-agent", "ben-agent"
    world.agent.save()
    world.agent2.save()
    return workforce


def _sso(login: str, password: str, client: Client | None = None, *, next_page: str = ""):
    """The console's button, the provider's form, back to our callback: (client, response)."""
    client = client or Client()
    started = client.post("/console/login/sso/", {"next": next_page} if next_page else {})
    assert started.status_code == 302, started.content
    with httpx.Client(timeout=10) as browser:
        back = sign_in(browser, started["Location"], login, password)
    assert back.status_code in (302, 303), back.text[:500]
    location = back.headers["location"]
    assert location.startswith(CALLBACK), location
    return client, client.get("/console/login/sso/callback?" + urlsplit(location).query)


def _signed_in(client) -> bool:
    return client.get("/api/staff/me").status_code == 200


def test_the_sign_in_page_offers_single_sign_on_only_when_configured(world, settings, staff_sso_on):
    assert b'id="staff-sso"' in Client().get("/console/login/").content
    settings.STAFF_OIDC = {**settings.STAFF_OIDC, "ISSUER": ""}
    assert b'id="staff-sso"' not in Client().get("/console/login/").content
    assert Client().post("/console/login/sso/").status_code == 404


def test_the_first_sign_in_links_the_account_and_later_ones_follow_the_link(world, staff_sso_on):
    client, done = _sso("a.nowicka", "pw-anna", next_page="/console/audit/")
    assert (done.status_code, done["Location"]) == (302, "/console/audit/")
    assert _signed_in(client) and client.get("/api/staff/me").json()["id"] == world.agent.id
    link = StaffIdentity.objects.get(user=world.agent)
    assert (link.issuer, link.subject) == (staff_sso_on.issuer, "a.nowicka")
    run_tasks()
    [record] = AuditRecord.objects.filter(event="staff.sso_linked")
    assert (record.subject_id, record.data["subject"]) == (world.agent.id, "a.nowicka")

    # Renamed in Branchline: the link still finds them (the username claim is not asked again).
    world.agent.username = "anna.nowicka"
    world.agent.save()
    again, done = _sso("a.nowicka", "pw-anna")
    assert done.status_code == 302 and _signed_in(again)


def test_another_subject_claiming_a_linked_username_is_refused(world, staff_sso_on):
    _sso("a.nowicka", "pw-anna")
    client, refused = _sso("impostor", "pw-impostor")
    assert refused.status_code == 401 and b"no Branchline account" in refused.content
    assert not _signed_in(client) and StaffIdentity.objects.count() == 1


def test_someone_the_bank_knows_but_branchline_does_not_is_refused(world, staff_sso_on):
    client, refused = _sso("nobody", "pw-nobody")
    assert refused.status_code == 401 and not _signed_in(client) and not StaffIdentity.objects.exists()


def test_a_deactivated_member_of_staff_is_refused(world, staff_sso_on):
    _sso("a.nowicka", "pw-anna")
    world.agent.is_active = False
    world.agent.save()
    client, refused = _sso("a.nowicka", "pw-anna")
    assert refused.status_code == 401 and not _signed_in(client)


def test_the_second_factor_still_follows_unless_the_providers_own_is_trusted(world, staff_sso_on, settings):
    for user in (world.agent, world.agent2):
        TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    client, done = _sso("a.nowicka", "pw-anna")
    assert (done.status_code, done["Location"]) == (302, "/console/login/second-factor/")
    assert not _signed_in(client)
    assert client.get("/console/login/second-factor/").status_code == 200  # pending, as after a password

    # Ben's provider sign-in had a second factor of its own (amr "mfa"): not trusted by default.
    client, done = _sso("b.carter", "pw-ben")
    assert done["Location"] == "/console/login/second-factor/" and not _signed_in(client)
    settings.STAFF_OIDC = {**settings.STAFF_OIDC, "PROVIDER_MFA": True}
    client, done = _sso("b.carter", "pw-ben")
    assert done["Location"] == "/console/" and _signed_in(client)
    client, done = _sso("a.nowicka", "pw-anna")  # trusted, but Anna's sign-in there had no second factor
    assert done["Location"] == "/console/login/second-factor/" and not _signed_in(client)


def test_a_return_that_is_not_this_browsers_signs_no_one_in(world, staff_sso_on):
    started = Client()
    started.post("/console/login/sso/")
    with httpx.Client(timeout=10) as browser:
        back = sign_in(browser, started.post("/console/login/sso/")["Location"], "a.nowicka", "pw-anna")
    query = urlsplit(back.headers["location"]).query
    other = Client()  # login CSRF: the attacker's code and state, in someone else's browser
    refused = other.get("/console/login/sso/callback?" + query)
    assert refused.status_code == 401 and b"not this browser" in refused.content and not _signed_in(other)
    tampered = started.get("/console/login/sso/callback?" + re.sub(r"state=[^&]+", "state=forged", query))
    assert tampered.status_code == 401 and not _signed_in(started)
    # The flow was used by that attempt: the right state afterwards is refused too.
    assert started.get("/console/login/sso/callback?" + query).status_code == 401 and not _signed_in(started)


def test_a_provider_error_or_a_flow_that_ran_out_signs_no_one_in(world, staff_sso_on):
    client = Client()
    client.post("/console/login/sso/")
    state = client.session[staff_sso.FLOW]["state"]
    denied = client.get(f"/console/login/sso/callback?state={state}&error=access_denied")
    assert denied.status_code == 401 and not _signed_in(client)
    client.post("/console/login/sso/")
    session = client.session
    session[staff_sso.FLOW] = {**session[staff_sso.FLOW], "at": 0}
    session.save()
    late = client.get(f"/console/login/sso/callback?state={session[staff_sso.FLOW]['state']}&code=x")
    assert late.status_code == 401 and not _signed_in(client)


def test_a_provider_that_does_not_answer_is_told_not_500(world, settings):
    settings.STAFF_OIDC = {**settings.STAFF_OIDC, "ISSUER": "http://127.0.0.1:9", "CLIENT_ID": CLIENT,
                           "CLIENT_SECRET": SECRET, "REDIRECT_URI": CALLBACK, "TIMEOUT_SECONDS": 0.5}
    response = Client().post("/console/login/sso/")
    assert response.status_code == 503 and b"does not answer" in response.content
