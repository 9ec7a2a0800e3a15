"""A real OpenID provider for tests and the demo ("bank SSO"): node-oidc-provider 9 run by
tests/idp/idp.mjs, started and stopped by its own pid. Its sign-in page accepts only the
configured accounts with their passwords; consent is granted at once.

    with IdentityProvider(clients=[{"client_id": "branchline", "client_secret": "s3cret",
                                    "redirect_uris": ["http://127.0.0.1:8000/oidc/callback"]}],
                          accounts={"jan": {"password": "pw", "claims": {"name": "Jan"}}}) as idp:
        response = sign_in(http, authorize_url, "jan", "pw")   # Location: <redirect_uri>?code=...&state=...

Scopes: openid [sub, amr], profile [name, given_name, family_name, preferred_username], bank
[customer_number, segment]. An account's "amr" (["pwd", "mfa"]) says how it signs in; ID tokens carry it.
PKCE (S256) is required for every client.
"""
import base64
import json
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import JWKRegistry, RSAKey

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
IDP_DIR = ROOT / "tests" / "idp"
IDP_SCRIPT = IDP_DIR / "idp.mjs"
NPM = ["npm", "--prefix", str(IDP_DIR), "--no-audit", "--no-fund"]

CLIENT_DEFAULTS = {
    "token_endpoint_auth_method": "client_secret_basic",
    "grant_types": ["authorization_code"],
    "response_types": ["code"],
}


def ensure_installed(timeout: float = 300) -> None:
    """npm ci tests/idp from its lock file when oidc-provider is not installed yet."""
    if (IDP_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    result = subprocess.run([*NPM, "ci", "--loglevel=error"], cwd=ROOT, capture_output=True, text=True,
                            timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"npm ci in {IDP_DIR} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def _client(client: dict) -> dict:
    client = {**CLIENT_DEFAULTS, **client}
    if client.get("backchannel_logout_uri"):
        client.setdefault("backchannel_logout_session_required", True)
    return client


class IdentityProvider:
    """One `node tests/idp/idp.mjs` process on 127.0.0.1 (port 0: a free one)."""

    def __init__(self, clients: list[dict], accounts: dict[str, dict], ttl: dict | None = None, port: int = 0):
        self.port = port or free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.signing_key = RSAKey.generate_key(
            2048, {"kid": f"idp-{secrets.token_hex(4)}", "use": "sig", "alg": "RS256"}, private=True)
        self.private_jwk: dict = self.signing_key.as_dict(private=True)
        self.config: dict = {
            "port": self.port,
            "issuer": self.issuer,
            "jwks": {"keys": [self.private_jwk]},
            "clients": [_client(c) for c in clients],
            "accounts": accounts,
            "ttl": {"IdToken": 3600, "Session": 3600, **(ttl or {})},
            "cookie_keys": [secrets.token_urlsafe(32) for _ in range(2)],
        }
        self.proc: subprocess.Popen | None = None
        self.workdir: Path | None = None
        self._metadata: dict | None = None

    @property
    def public_jwks(self) -> dict:
        return {"keys": [self.signing_key.as_dict(private=False)]}

    @property
    def log_path(self) -> Path | None:
        return self.workdir / "idp.log" if self.workdir else None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except (AttributeError, OSError):
            return ""

    @property
    def metadata(self) -> dict:
        """The provider's /.well-known/openid-configuration (authorization_endpoint, token_endpoint,
        jwks_uri, end_session_endpoint, ...)."""
        if self._metadata is None:
            response = httpx.get(self.issuer + "/.well-known/openid-configuration", timeout=5)
            response.raise_for_status()
            self._metadata = response.json()
        return self._metadata

    def start(self, timeout: float = 20) -> "IdentityProvider":
        ensure_installed()
        self.workdir = Path(tempfile.mkdtemp(prefix="branchline-idp-"))
        config_path = self.workdir / "config.json"
        config_path.write_text(json.dumps(self.config))
        config_path.chmod(0o600)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(["node", str(IDP_SCRIPT), str(config_path)], cwd=IDP_DIR, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.PIPE, start_new_session=True)
        # The provider exits when this pipe closes: if this process dies without stop() (a
        # killed test run), no provider is left behind.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_tail()
                self.stop()
                raise RuntimeError(f"the identity provider exited with {self.proc.returncode}:\n{tail}")
            try:
                if httpx.get(self.issuer + "/.well-known/openid-configuration", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"the identity provider on {self.issuer} did not answer in {timeout}s:\n{tail}")

    def stop(self, timeout: float = 10) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None and self.proc.stdin:
            self.proc.stdin.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> "IdentityProvider":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def mint(self, claims: dict, *, alg: str = "RS256", key=None, header: dict | None = None) -> str:
        """A JWT signed with the provider's own key (its kid in the header) unless `key` (a joserfc
        key or a JWK dict) is given: for tokens the provider would never issue (wrong aud, expired...)."""
        if key is None:
            key = self.signing_key
        elif isinstance(key, dict):
            key = JWKRegistry.import_key(key)
        full_header = {"alg": alg, "typ": "JWT"}
        if key.kid:
            full_header["kid"] = key.kid
        full_header.update(header or {})
        return jwt.encode(full_header, claims, key, algorithms=[alg])


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def unsigned(claims: dict) -> str:
    """An `alg: none` JWT (empty signature): a relying party must refuse it."""
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


class _Forms(HTMLParser):
    """The forms of a page: [{"id", "action", "method", "fields": {name: value}}]; buttons outside a
    form that name it (form="...") are recorded as "buttons" of that form."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._open = {"id": attrs.get("id"), "action": attrs.get("action") or "",
                          "method": (attrs.get("method") or "get").lower(), "fields": {}, "buttons": {}}
            self.forms.append(self._open)
        elif tag in ("input", "button", "textarea", "select") and attrs.get("name"):
            target = self._open
            if attrs.get("form"):
                target = next((f for f in self.forms if f["id"] == attrs["form"]), target)
            if target is None:
                return
            if tag == "button" or attrs.get("type") == "submit":
                target["buttons"][attrs["name"]] = attrs.get("value") or ""
            else:
                target["fields"][attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _follow(client: httpx.Client, response: httpx.Response, origin: str, limit: int = 20) -> httpx.Response:
    """Follow redirects while they stay on `origin`; the first one leaving it is returned unfollowed."""
    for _ in range(limit):
        if not response.is_redirect:
            return response
        target = urljoin(str(response.request.url), response.headers["location"])
        if _origin(target) != origin:
            return response
        response = client.get(target, follow_redirects=False)
    raise RuntimeError(f"more than {limit} redirects on {origin}")


def sign_in(client: httpx.Client, authorize_url: str, login: str, password: str) -> httpx.Response:
    """Drive the provider from `authorize_url` as a browser would: its sign-in form is filled in with
    `login`/`password` when it shows one (not when `client` holds a provider session). Returns the
    redirect back to the relying party (Location: redirect_uri?code=...&state=..., not followed), or
    the page the provider stopped at (the form again with "Invalid login", an error page)."""
    origin = _origin(authorize_url)
    response = _follow(client, client.get(authorize_url, follow_redirects=False), origin)
    submitted = False
    while response.status_code == 200 and not submitted:
        form = next((f for f in forms(response.text) if "login" in f["fields"] and "password" in f["fields"]), None)
        if form is None:
            break
        submitted = True
        action = urljoin(str(response.request.url), form["action"])
        data = {**form["fields"], "login": login, "password": password}
        response = _follow(client, client.post(action, data=data, follow_redirects=False), origin)
    return response


def logout(client: httpx.Client, end_session_url: str) -> httpx.Response:
    """RP-initiated logout: GET the end_session endpoint (with id_token_hint and
    post_logout_redirect_uri in `end_session_url`, or not), confirm the provider's "sign out?" form
    (logout=yes). Returns the redirect to post_logout_redirect_uri (not followed), or the provider's
    "signed out" page when there is none. Back-channel logout tokens are sent before it answers."""
    origin = _origin(end_session_url)
    response = _follow(client, client.get(end_session_url, follow_redirects=False), origin)
    form = next((f for f in forms(response.text) if "xsrf" in f["fields"]), None)
    if response.status_code != 200 or form is None:
        return response
    action = urljoin(str(response.request.url), form["action"])
    return _follow(client, client.post(action, data={**form["fields"], "logout": "yes"}, follow_redirects=False),
                   origin)


__all__ = ["IdentityProvider", "ensure_installed", "forms", "logout", "sign_in", "unsigned"]


def handed_over(page: str) -> dict:
    """What our /sso/callback page hands the widget: {"sso": code} or {"sso_error": code}."""
    code, error = (re.search(rf'data-{name}="([^"]*)"', page).group(1) for name in ("code", "error"))
    assert re.search(r'data-target="/chat/"', page)
    return {"sso": code} if code else {"sso_error": error}


def customer_token(browser: httpx.Client, base_url: str, login: str, password: str) -> str:
    """A customer's whole sign-in with the bank, as the widget and its browser make it, against
    a running Branchline at `base_url` whose provider knows `login`: start, the provider's
    form, our callback, the redeem. Returns the customer's token."""
    start = browser.post(f"{base_url}/api/customer/sso/start", json={})
    assert start.status_code == 200, start.text
    back = sign_in(browser, start.json()["authorize_url"], login, password)
    done = browser.get(back.headers["location"], follow_redirects=False)  # our /sso/callback
    assert done.status_code == 200, done.text
    redeemed = browser.post(f"{base_url}/api/customer/sessions/sso",
                            json={"code": handed_over(done.text)["sso"], "binding": start.json()["binding"]})
    assert redeemed.status_code == 201, redeemed.text
    return redeemed.json()["token"]
