"""The red team's findings of the identity issue, each fixed and held here: a server started
without settings, login CSRF, sign-in throttling bypassed through X-Forwarded-For, and
production settings without HSTS. Plus the checks that go with them: the client's address
behind a trusted proxy, and the origins that may open a staff socket."""
import ipaddress
import json
import subprocess
import sys
import tempfile

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client, RequestFactory, override_settings

from branchline.accounts.models import User
from branchline.core.http import TrustedProxyMiddleware, forwarded_client
from branchline.realtime.gateway import _client_address, _own_origin
from branchline.settings import base
from tests.factories import PASSWORD
from tests.support.servers import ROOT, SRC, TEST_SECRET_KEY, server_env

PROXY = "10.0.0.5"


def _env(**extra) -> dict:
    """A server's environment without settings or secret key, unless given."""
    env = {k: v for k, v in server_env(database_url=f"sqlite:///{tempfile.gettempdir()}/branchline-never-opened.sqlite3").items()
           if k not in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY")}
    return {**env, "PYTHONPATH": str(SRC), **extra}


def _run(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)


def _python(code: str, **env) -> subprocess.CompletedProcess:
    return _run("-c", code, env=_env(**env))


# --- a server without explicit settings ---------------------------------------------------

def test_a_server_without_settings_refuses_to_start_without_a_secret_key():
    started = _python("import branchline.asgi")
    assert started.returncode != 0 and "SECRET_KEY must be set" in started.stderr
    managed = _run("manage.py", "check", env=_env())
    assert managed.returncode != 0 and "SECRET_KEY must be set" in managed.stderr


def test_a_server_without_settings_runs_as_production():
    shown = _python("import json, branchline.asgi; from django.conf import settings; "
                    "print(json.dumps([settings.SETTINGS_MODULE, settings.DEBUG]))",
                    SECRET_KEY=TEST_SECRET_KEY)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == ["branchline.settings.production", False]


@pytest.mark.parametrize("key", ["demo-only-not-secret-0b6e1d6c1f4a4c7f9a3f", "short-key", "x" * 60])
def test_production_refuses_the_demo_key_and_weak_keys(key):
    refused = _python("import django; django.setup()", DJANGO_SETTINGS_MODULE="branchline.settings.production",
                      SECRET_KEY=key)
    assert refused.returncode != 0 and "SECRET_KEY is the demo's or too weak" in refused.stderr


GOOD_OIDC = {"BRANCHLINE_CUSTOMER_OIDC_ISSUER": "https://login.bank.example",
             "BRANCHLINE_CUSTOMER_OIDC_CLIENT_ID": "branchline",
             "BRANCHLINE_CUSTOMER_OIDC_CLIENT_SECRET": "s" * 32,
             "BRANCHLINE_CUSTOMER_OIDC_REDIRECT_URI": "https://chat.bank.example/sso/callback"}


STAFF_OIDC = {"BRANCHLINE_STAFF_OIDC_ISSUER": "https://sso.bank.example",
              "BRANCHLINE_STAFF_OIDC_CLIENT_ID": "branchline-console",
              "BRANCHLINE_STAFF_OIDC_CLIENT_SECRET": "t" * 32,
              "BRANCHLINE_STAFF_OIDC_REDIRECT_URI": "https://chat.bank.example/console/login/sso/callback"}


@pytest.mark.parametrize("change,refusal", [
    ({}, None),
    ({"BRANCHLINE_CUSTOMER_OIDC_ISSUER": "http://login.bank.example"}, "must be https:// URLs"),
    ({"BRANCHLINE_CUSTOMER_OIDC_REDIRECT_URI": "http://chat.bank.example/sso/callback"}, "must be https:// URLs"),
    ({"BRANCHLINE_CUSTOMER_OIDC_REDIRECT_URI": "https://chat.bank.example/elsewhere"}, "this server's /sso/callback"),
    ({"BRANCHLINE_CUSTOMER_OIDC_CLIENT_SECRET": "short"}, "_CLIENT_SECRET (16+ characters)"),
    ({"BRANCHLINE_CUSTOMER_OIDC_WIDGET_URL": "/chat/#x"}, "must not have a #fragment"),
    # Staff single sign-on, checked the same way.
    ({**STAFF_OIDC}, None),
    ({**STAFF_OIDC, "BRANCHLINE_STAFF_OIDC_ISSUER": "http://sso.bank.example"}, "STAFF_OIDC_ISSUER and _REDIRECT_URI must"),
    ({**STAFF_OIDC, "BRANCHLINE_STAFF_OIDC_REDIRECT_URI": "https://chat.bank.example/sso/callback"},
     "this server's /console/login/sso/callback"),
    ({**STAFF_OIDC, "BRANCHLINE_STAFF_OIDC_CLIENT_SECRET": ""}, "STAFF_OIDC_CLIENT_ID and _CLIENT_SECRET"),
])
def test_production_refuses_a_bank_sign_in_that_is_not_over_https_or_lacks_its_secret(change, refusal):
    env = {k: v for k, v in _env(DJANGO_SETTINGS_MODULE="branchline.settings.production", SECRET_KEY=TEST_SECRET_KEY,
                                 **{**GOOD_OIDC, **change}).items() if k != "BRANCHLINE_PLAIN_HTTP"}
    started = _run("-c", "import django; django.setup()", env=env)
    if refusal is None:
        assert started.returncode == 0, started.stderr
    else:
        assert started.returncode != 0 and refusal in started.stderr


def test_production_settings_pass_the_deploy_check():
    """HSTS, SSL redirect, secure cookies, a strong key, DEBUG off: no warning at all."""
    env = {k: v for k, v in _env(DJANGO_SETTINGS_MODULE="branchline.settings.production",
                                 SECRET_KEY=TEST_SECRET_KEY).items() if k != "BRANCHLINE_PLAIN_HTTP"}
    checked = _run("manage.py", "check", "--deploy", "--fail-level", "WARNING", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --- login CSRF ---------------------------------------------------------------------------

@pytest.fixture
def browser():
    """A browser-like client: Django's test client skips CSRF checks unless told not to."""
    return Client(enforce_csrf_checks=True)


def _sign_in(client, world, **extra):
    return client.post("/api/staff/session", json.dumps({"username": world.agent.username, "password": PASSWORD}),
                       **{"content_type": "application/json", **extra})


@pytest.mark.django_db
def test_a_sign_in_without_the_csrf_token_is_refused_and_signs_no_one_in(browser, world):
    answer = _sign_in(browser, world)
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "csrf_failed")
    assert "sessionid" not in browser.cookies
    assert browser.get("/api/staff/me").status_code == 401


@pytest.mark.django_db
def test_a_text_plain_sign_in_is_refused(browser, world):
    """What a foreign page's form can send without a preflight."""
    token = browser.get("/api/staff/csrf").json()["csrf_token"]
    answer = _sign_in(browser, world, content_type="text/plain", HTTP_X_CSRFTOKEN=token)
    assert (answer.status_code, answer.json()["error"]["code"]) == (415, "unsupported_media_type")
    assert browser.get("/api/staff/me").status_code == 401


@pytest.mark.django_db
def test_a_sign_in_with_the_csrf_token_works(browser, world):
    token = browser.get("/api/staff/csrf").json()["csrf_token"]
    assert _sign_in(browser, world, HTTP_X_CSRFTOKEN=token).status_code == 200
    assert browser.get("/api/staff/me").json()["username"] == world.agent.username


# --- sign-in throttling --------------------------------------------------------------------

def _guess(client, username, address, forwarded=None):
    extra = {"REMOTE_ADDR": address, **({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {})}
    return client.post("/api/staff/session", json.dumps({"username": username, "password": "guess"}),
                       content_type="application/json", **extra).status_code


@pytest.mark.django_db
def test_rotating_x_forwarded_for_does_not_escape_the_account_budget(client, world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "SIGN_IN_FAILURES_PER_ACCOUNT": 5}
    codes = [_guess(client, world.agent.username, "127.0.0.1", forwarded=f"203.0.113.{n}") for n in range(8)]
    assert codes == [401] * 5 + [429] * 3


@pytest.mark.django_db
def test_rotating_x_forwarded_for_from_an_untrusted_peer_does_not_escape_the_address_budget(client, world, settings):
    """Many usernames, one real address, a new X-Forwarded-For each time: still one address."""
    settings.BRANCHLINE = {**settings.BRANCHLINE, "SIGN_IN_FAILURES_PER_ADDRESS": 4}
    codes = [_guess(client, f"user{n}", "198.51.100.7", forwarded=f"203.0.113.{n}") for n in range(6)]
    assert codes == [401] * 4 + [429] * 2


@pytest.mark.django_db
def test_the_account_budget_holds_from_every_address(client, world, settings):
    """Per account: a guesser with many real addresses gets no more tries."""
    settings.BRANCHLINE = {**settings.BRANCHLINE, "SIGN_IN_FAILURES_PER_ACCOUNT": 5}
    codes = [_guess(client, world.agent.username, f"198.51.100.{n}") for n in range(7)]
    assert codes == [401] * 5 + [429] * 2


@pytest.mark.django_db
def test_a_guesser_at_one_address_does_not_lock_the_person_out_elsewhere(client, world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "SIGN_IN_FAILURES_PER_ACCOUNT_AND_ADDRESS": 3}
    assert [_guess(client, world.agent.username, "198.51.100.1") for _ in range(4)] == [401, 401, 401, 429]
    answer = client.post("/api/staff/session", json.dumps({"username": world.agent.username, "password": PASSWORD}),
                         content_type="application/json", REMOTE_ADDR="198.51.100.2")
    assert answer.status_code == 200


@pytest.mark.django_db
def test_one_address_spraying_many_accounts_is_stopped(client, world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "SIGN_IN_FAILURES_PER_ADDRESS": 4}
    codes = [_guess(client, f"user{n}", "198.51.100.7") for n in range(6)]
    assert codes == [401] * 4 + [429] * 2
    assert _guess(client, "user9", "198.51.100.8") == 401  # another address is not affected


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_address_budget(client, world, settings):
    settings.BRANCHLINE = {**settings.BRANCHLINE, "SIGN_IN_FAILURES_PER_ADDRESS": 3}
    with override_settings(TRUSTED_PROXIES=_networks(PROXY)):
        first = [_guess(client, f"a{n}", PROXY, forwarded="198.51.100.1") for n in range(4)]
        other = _guess(client, "b", PROXY, forwarded="198.51.100.2")
    assert (first, other) == ([401] * 3 + [429], 401)


# --- the client's address -------------------------------------------------------------------

def _networks(*values):
    return [ipaddress.ip_network(v) for v in values]


@pytest.mark.parametrize(("peer", "header", "trusted", "expected"), [
    ("127.0.0.1", "203.0.113.9", [], "127.0.0.1"),                     # nobody trusted: the peer
    ("198.51.100.4", "203.0.113.9", [PROXY], "198.51.100.4"),          # not from the proxy: ignored
    (PROXY, "203.0.113.9", [PROXY], "203.0.113.9"),                    # from the proxy: believed
    (PROXY, "1.2.3.4, 203.0.113.9", [PROXY], "203.0.113.9"),           # a forged first entry is not the client
    (PROXY, "203.0.113.9, 10.0.0.6", [PROXY, "10.0.0.6"], "203.0.113.9"),  # two proxies in a row
    (PROXY, "not-an-address", [PROXY], PROXY),                         # garbage: the peer
    (PROXY, "203.0.113.9:51234", [PROXY], "203.0.113.9"),              # with a port (some load balancers)
    (PROXY, "[2001:db8::1]:443", [PROXY], "2001:db8::1"),
    ("::ffff:10.0.0.5", "203.0.113.9", [PROXY], "203.0.113.9"),        # the proxy seen through IPv6
    (PROXY, None, [PROXY], PROXY),
    ("::ffff:198.51.100.4", None, [], "198.51.100.4"),                 # an IPv4 client on a dual-stack socket
])
def test_forwarded_client(peer, header, trusted, expected):
    with override_settings(TRUSTED_PROXIES=_networks(*trusted)):
        assert forwarded_client(peer, header) == expected


def test_forwarding_headers_from_an_untrusted_peer_are_dropped():
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="203.0.113.9",
                                   HTTP_X_FORWARDED_PROTO="https")
    with override_settings(TRUSTED_PROXIES=_networks(PROXY)):
        TrustedProxyMiddleware(lambda r: None)(request)
    assert request.META["REMOTE_ADDR"] == "198.51.100.4"
    assert "HTTP_X_FORWARDED_PROTO" not in request.META and "HTTP_X_FORWARDED_FOR" not in request.META


def test_sockets_resolve_the_address_the_same_way():
    scope = {"client": (PROXY, 5000), "headers": [(b"x-forwarded-for", b"203.0.113.9")]}
    with override_settings(TRUSTED_PROXIES=_networks(PROXY)):
        assert _client_address(scope) == "203.0.113.9"
    with override_settings(TRUSTED_PROXIES=[]):
        assert _client_address(scope) == PROXY


# --- staff socket origins -----------------------------------------------------------------------

@override_settings(ALLOWED_HOSTS=["chat.bank.example"], CSRF_TRUSTED_ORIGINS=["https://console.bank.example"])
def test_only_configured_origins_may_open_a_staff_socket():
    assert _own_origin("https://chat.bank.example", "chat.bank.example")
    assert _own_origin("https://console.bank.example", "chat.bank.example")
    assert not _own_origin("https://evil.example", "chat.bank.example")
    # A request that names an unconfigured host for itself proves nothing.
    assert not _own_origin("https://evil.example", "evil.example")


def test_staff_passwords_are_hashed_with_argon2id_and_old_hashes_are_upgraded_at_sign_in(db, settings):
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    user = User.objects.create(username="hash-check", role="agent")
    user.set_password("correct-horse-battery")
    user.save()
    assert user.password.startswith("argon2$argon2id$")

    User.objects.filter(pk=user.pk).update(
        password=make_password("correct-horse-battery", hasher="pbkdf2_sha256"))  # from before Argon2
    client = Client(enforce_csrf_checks=True)
    csrf = client.get("/api/staff/csrf").json()["csrf_token"]
    signed_in = client.post("/api/staff/session", {"username": "hash-check", "password": "correct-horse-battery"},
                            content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert signed_in.status_code == 200
    assert User.objects.get(pk=user.pk).password.startswith("argon2$argon2id$")


def test_production_cannot_relax_the_staff_second_factor():
    refused = _python("import django; django.setup()", DJANGO_SETTINGS_MODULE="branchline.settings.production",
                      SECRET_KEY=TEST_SECRET_KEY, BRANCHLINE_STAFF_SECOND_FACTOR="optional")
    assert refused.returncode != 0 and "cannot be relaxed in production" in refused.stderr
