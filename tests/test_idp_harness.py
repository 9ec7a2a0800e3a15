"""The test identity provider (tests/support/idp.py, tests/idp/idp.mjs) on its own, without
Branchline: an authorization-code flow with PKCE, its sign-in form, silent re-authorization,
RP-initiated logout with a back-channel logout token, and minted tokens."""
import base64
import hashlib
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.idp import IdentityProvider, logout, sign_in, unsigned
from tests.support.servers import free_port

REDIRECT_URI = "http://127.0.0.1:9/callback"  # never contacted: sign_in stops at the redirect
POST_LOGOUT_URI = "http://127.0.0.1:9/signed-out"
ACCOUNTS = {
    "jan.kowalski": {"password": "correct horse", "claims": {
        "name": "Jan Kowalski", "given_name": "Jan", "family_name": "Kowalski",
        "customer_number": "PL-000123", "segment": "retail"}},
}


class BackchannelReceiver(ThreadingHTTPServer):
    """The relying party's backchannel_logout_uri: keeps every logout_token posted to it."""

    def __init__(self):
        self.tokens: list[str] = []
        self.received = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                receiver.tokens += parse_qs(body).get("logout_token", [])
                receiver.received.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", free_port()), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/backchannel-logout"


@pytest.fixture(scope="module")
def backchannel():
    server = BackchannelReceiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def idp(backchannel):
    client = {
        "client_id": "branchline", "client_secret": "branchline-secret", "redirect_uris": [REDIRECT_URI],
        "post_logout_redirect_uris": [POST_LOGOUT_URI], "backchannel_logout_uri": backchannel.url,
        "backchannel_logout_session_required": True, "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code"], "response_types": ["code"],
    }
    with IdentityProvider(clients=[client], accounts=ACCOUNTS) as provider:
        yield provider


def authorization(idp: IdentityProvider, **extra) -> tuple[str, dict]:
    """An authorization URL as a relying party builds it, and the secrets it keeps."""
    kept = {"verifier": secrets.token_urlsafe(48), "state": secrets.token_urlsafe(16), "nonce": secrets.token_urlsafe(16)}
    challenge = base64.urlsafe_b64encode(hashlib.sha256(kept["verifier"].encode()).digest()).rstrip(b"=").decode()
    params = {"response_type": "code", "client_id": "branchline", "redirect_uri": REDIRECT_URI,
              "scope": "openid profile bank", "state": kept["state"], "nonce": kept["nonce"],
              "code_challenge": challenge, "code_challenge_method": "S256", **extra}
    return idp.metadata["authorization_endpoint"] + "?" + urlencode(params), kept


def callback_params(response: httpx.Response) -> dict:
    assert response.is_redirect, (response.status_code, response.text[:500])
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def redeem(idp: IdentityProvider, code: str, verifier: str) -> dict:
    response = httpx.post(idp.metadata["token_endpoint"], auth=("branchline", "branchline-secret"), timeout=5,
                          data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                                "code_verifier": verifier})
    assert response.status_code == 200, response.text
    return response.json()


def served_keys(idp: IdentityProvider) -> KeySet:
    return KeySet.import_key_set(httpx.get(idp.metadata["jwks_uri"], timeout=5).json())


def test_code_flow_silent_reauthorization_and_logout(idp, backchannel):
    with httpx.Client(timeout=5) as browser:
        url, kept = authorization(idp)
        params = callback_params(sign_in(browser, url, "jan.kowalski", "correct horse"))
        assert params["state"] == kept["state"] and params["code"]

        tokens = redeem(idp, params["code"], kept["verifier"])
        id_token = jwt.decode(tokens["id_token"], served_keys(idp), algorithms=["RS256"])
        assert id_token.header["kid"] == idp.private_jwk["kid"]
        claims = id_token.claims
        assert claims["iss"] == idp.issuer and claims["aud"] == "branchline" and claims["nonce"] == kept["nonce"]
        assert claims["sub"] == "jan.kowalski" and claims["sid"]
        assert claims["customer_number"] == "PL-000123" and claims["segment"] == "retail"
        assert claims["name"] == "Jan Kowalski"

        # The provider's session cookie: prompt=none answers with a code, no form (a form would
        # have been filled in with this wrong password and shown again with "Invalid login").
        url, kept = authorization(idp, prompt="none")
        params = callback_params(sign_in(browser, url, "jan.kowalski", "not asked for"))
        assert params["state"] == kept["state"] and "error" not in params
        assert redeem(idp, params["code"], kept["verifier"])["id_token"]

        # RP-initiated logout; the provider posts a logout token for the session first.
        end = idp.metadata["end_session_endpoint"] + "?" + urlencode(
            {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT_URI, "state": "bye"})
        response = logout(browser, end)
        assert response.is_redirect and response.headers["location"] == POST_LOGOUT_URI + "?state=bye"
        assert backchannel.received.wait(5), idp.log_tail()
        logout_token = jwt.decode(backchannel.tokens[-1], served_keys(idp), algorithms=["RS256"]).claims
        assert logout_token["iss"] == idp.issuer and logout_token["aud"] == "branchline"
        assert logout_token["sub"] == "jan.kowalski" and logout_token["sid"] == claims["sid"]
        assert "http://schemas.openid.net/event/backchannel-logout" in logout_token["events"]

        # Signed out: prompt=none now fails with login_required.
        url, kept = authorization(idp, prompt="none")
        params = callback_params(browser.get(url, follow_redirects=False))
        assert params["error"] == "login_required" and params["state"] == kept["state"]


def test_only_a_configured_password_signs_in(idp):
    with httpx.Client(timeout=5) as browser:
        url, _ = authorization(idp)
        response = sign_in(browser, url, "jan.kowalski", "wrong")
        assert response.status_code == 200 and "Invalid login" in response.text
        assert 'name="password"' in response.text and "Sign in" in response.text

        response = sign_in(browser, authorization(idp)[0], "nobody", "correct horse")
        assert response.status_code == 200 and "Invalid login" in response.text


def test_pkce_is_required(idp):
    url, kept = authorization(idp)
    url = url.replace("&code_challenge_method=S256", "").split("&code_challenge=")[0]
    params = callback_params(httpx.get(url, follow_redirects=False, timeout=5))
    assert params["error"] == "invalid_request" and "PKCE" in params["error_description"]


def test_minted_tokens(idp):
    keys = served_keys(idp)
    token = idp.mint({"iss": idp.issuer, "aud": "someone-else", "sub": "jan.kowalski", "exp": 1})
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    assert decoded.header["kid"] == idp.private_jwk["kid"] and decoded.claims["aud"] == "someone-else"

    header, payload, signature = unsigned({"sub": "jan.kowalski"}).split(".")
    padded = header + "=" * (-len(header) % 4)
    assert json.loads(base64.urlsafe_b64decode(padded)) == {"alg": "none", "typ": "JWT"} and signature == ""
