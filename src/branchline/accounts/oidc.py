"""Branchline as the relying party of the bank's OpenID providers: the customers' (docs/adr/0013,
`customers`) and, for staff single sign-on, the workforce's (docs/adr/0017, `staff`). For each:
discovery, the authorization request (code flow with PKCE), the token request, and the
verification of every token the provider hands us.

No database work here (accounts/actions/sso.py and staff_sso.py store sign-ins and sessions).
Every call to a provider is bounded by its TIMEOUT_SECONDS; a provider that is down or hangs
answers `sso_unavailable` (503), never a stuck request.

Authlib builds the OAuth 2.0 requests (authorization URL with the S256 code challenge,
client authentication, the token request and its errors); joserfc verifies ID tokens and
logout tokens: the signature with the provider's published keys, only asymmetric
algorithms, then issuer, audience, expiry, issue time and nonce."""
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.requests_client import OAuthError as AuthlibOAuthError
from django.conf import settings
from django.utils.translation import gettext_lazy
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from branchline.core.errors import DomainError, NotFound, Unauthorized
from branchline.core.outage import Breaker, QuietLog

log = logging.getLogger(__name__)

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
METADATA_SECONDS = 3600  # discovery and keys are re-read at most this often...
KEYS_REFRESH_SECONDS = 60  # ...or when a token names a key we do not know, at most this often


class SsoUnavailable(DomainError):
    status = 503
    code = "sso_unavailable"
    default_message = gettext_lazy("The bank's sign-in service does not answer. Try again in a moment.")


class SsoRefused(Unauthorized):
    code = "sso_token_invalid"
    default_message = gettext_lazy("The sign-in could not be verified.")


def provider_error(error) -> str:
    """The error a provider sent the browser back with (`login_required`, `access_denied`...),
    as a safe word to record and name in our own error code."""
    return error[:40] if isinstance(error, str) and error.replace("_", "").isalnum() else "invalid_request"


class _Cache:
    """A provider's metadata and keys, shared by the process's threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        self.issuer = None
        self.provider, self.provider_at = None, 0.0
        self.keys, self.keys_at = None, 0.0


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce: str
    code_verifier: str


MAX_DOCUMENT_BYTES = 1 << 20  # discovery and keys are a few KiB


class RelyingParty:
    """Branchline as the client of one OpenID provider, configured by the settings dict
    named `setting` (ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, SCOPES, ALGORITHMS,
    TIMEOUT_SECONDS, CLOCK_SKEW_SECONDS, LOGOUT_TOKEN_MAX_AGE_SECONDS), with its own cache
    of the provider's metadata and keys and its own breaker."""

    def __init__(self, setting: str, provider_name: str, refused: str):
        self.setting = setting
        self.cache = _Cache()
        # A provider that is down or hangs costs one timeout per pause per process, not one
        # per sign-in: meanwhile every call answers sso_unavailable at once (HTTP threads are
        # shared with the whole API, and the widget asks silently on every new tab).
        self.breaker = Breaker(30)
        self.outage = QuietLog(log, provider_name, refused)
        self.keys_refresh = threading.Lock()  # one thread reads the keys; the others wait for it

    @property
    def config(self) -> dict:
        return getattr(settings, self.setting)

    def enabled(self) -> bool:
        return bool(self.config["ISSUER"] and self.config["CLIENT_ID"])

    def require_enabled(self) -> None:
        if not self.enabled():
            raise NotFound(gettext_lazy("Signing in with the bank is not set up here."), code="sso_not_configured")

    def _guarded(self, call):
        if not self.breaker.allow():
            self.outage.failed()
            raise SsoUnavailable()
        try:
            result = call()
        except SsoUnavailable as error:
            self.breaker.failed()
            self.outage.failed(error.__cause__ or error)
            raise
        self.breaker.succeeded()
        self.outage.recovered()
        return result

    def _get_json(self, url: str) -> dict:
        """A JSON document from the provider, within TIMEOUT_SECONDS in all (not per read: a
        provider that sends a byte now and then is cut off too) and at most 1 MiB."""
        timeout = self.config["TIMEOUT_SECONDS"]
        deadline = time.monotonic() + timeout

        def fetch():
            try:
                with requests.get(url, timeout=timeout, allow_redirects=False, stream=True) as response:
                    response.raise_for_status()
                    body = bytearray()
                    # read1: whatever has arrived (a fixed-size read would wait for all of it,
                    # and a provider sending a byte now and then would never reach the deadline).
                    while chunk := response.raw.read1(16384, decode_content=True):
                        body += chunk
                        if len(body) > MAX_DOCUMENT_BYTES or time.monotonic() > deadline:
                            raise SsoUnavailable()
                    return json.loads(body)
            except (requests.RequestException, ValueError) as error:
                raise SsoUnavailable() from error

        return self._guarded(fetch)

    def provider(self) -> Provider:
        """The provider's discovery document, checked to name the configured issuer."""
        config, cache = self.config, self.cache
        with cache.lock:
            if cache.issuer != config["ISSUER"]:  # settings changed (tests)
                cache.clear()
                cache.issuer = config["ISSUER"]
                self.breaker.succeeded()
            if cache.provider and time.monotonic() - cache.provider_at < METADATA_SECONDS:
                return cache.provider
        document = self._get_json(f"{config['ISSUER']}/.well-known/openid-configuration")
        if document.get("issuer") != config["ISSUER"]:  # OpenID Connect Discovery 1.0, section 4.3
            raise SsoUnavailable()
        try:
            found = Provider(issuer=document["issuer"], authorization_endpoint=document["authorization_endpoint"],
                             token_endpoint=document["token_endpoint"], jwks_uri=document["jwks_uri"],
                             end_session_endpoint=document.get("end_session_endpoint"))
        except KeyError as error:
            raise SsoUnavailable() from error
        with cache.lock:
            cache.provider, cache.provider_at = found, time.monotonic()
        return found

    def _keys(self, *, refresh: bool = False) -> KeySet:
        cache = self.cache

        def fresh():
            age = time.monotonic() - cache.keys_at
            return cache.keys if cache.keys and (age < METADATA_SECONDS and not refresh
                                                 or age < KEYS_REFRESH_SECONDS) else None

        with cache.lock:
            found = fresh()
        if found:
            return found
        with self.keys_refresh:
            with cache.lock:
                found = fresh()
            if found:
                return found
            try:
                keys = KeySet.import_key_set(self._get_json(self.provider().jwks_uri))
            except (JoseError, ValueError, TypeError) as error:
                raise SsoUnavailable() from error
            with cache.lock:
                cache.keys, cache.keys_at = keys, time.monotonic()
            return keys

    def _decode(self, token) -> dict:
        """The token's claims once its signature verifies with one of the provider's keys;
        a key id we do not know yet re-reads the keys once (the provider rotated them)."""
        if not isinstance(token, str) or not token or len(token) > 16384:
            raise SsoRefused()
        algorithms = self.config["ALGORITHMS"]
        for refresh in (False, True):
            try:
                return jwt.decode(token, self._keys(refresh=refresh), algorithms=algorithms).claims
            except InvalidKeyIdError as error:  # a key we do not know yet: the provider may have rotated
                if refresh:
                    raise SsoRefused() from error
            except (ValueError, JoseError) as error:
                raise SsoRefused() from error
        raise SsoRefused()

    def _registry(self, audiences: list[str], **claims) -> JWTClaimsRegistry:
        return JWTClaimsRegistry(
            leeway=self.config["CLOCK_SKEW_SECONDS"],
            iss={"essential": True, "value": self.config["ISSUER"]},
            aud={"essential": True, "values": audiences},
            iat={"essential": True},
            **claims,
        )

    def verify_id_token(self, token, *, audiences: list[str], nonce: str | None) -> dict:
        """The ID token's claims, or SsoRefused: signed by the provider with an allowed
        algorithm, from our issuer, for one of `audiences` (and, with several audiences,
        authorised for it: azp), not expired, with the nonce of this sign-in when given."""
        claims = self._decode(token)
        options = {"sub": {"essential": True}, "exp": {"essential": True}}
        if nonce is not None:
            options["nonce"] = {"essential": True, "value": nonce}
        try:
            self._registry(audiences, **options).validate(claims)
        except JoseError as error:
            raise SsoRefused() from error
        aud = claims["aud"]
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") not in audiences:
            raise SsoRefused()
        if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= 200:
            raise SsoRefused()
        return claims

    def verify_logout_token(self, token, *, audiences: list[str]) -> dict:
        """A back-channel logout token's claims (OpenID Connect Back-Channel Logout 1.0,
        section 2.6): signed, ours, recent (`exp`, and `iat` within LOGOUT_TOKEN_MAX_AGE_SECONDS),
        carrying the logout event, a session or subject, no nonce. The caller refuses a `jti`
        seen before."""
        claims = self._decode(token)
        try:
            self._registry(audiences, jti={"essential": True}, exp={"essential": True}).validate(claims)
        except JoseError as error:
            raise SsoRefused() from error
        events = claims.get("events")
        if not isinstance(events, dict) or BACKCHANNEL_LOGOUT_EVENT not in events or "nonce" in claims:
            raise SsoRefused()
        if not any(isinstance(claims.get(name), str) and 0 < len(claims[name]) <= 200 for name in ("sid", "sub")):
            raise SsoRefused()
        if claims["iat"] < time.time() - self.config["LOGOUT_TOKEN_MAX_AGE_SECONDS"]:
            raise SsoRefused()
        return claims

    def _client(self) -> OAuth2Session:
        config = self.config
        return OAuth2Session(client_id=config["CLIENT_ID"], client_secret=config["CLIENT_SECRET"],
                             token_endpoint_auth_method="client_secret_basic", scope=config["SCOPES"],
                             redirect_uri=config["REDIRECT_URI"], code_challenge_method="S256")

    def authorization_request(self, *, silent: bool = False) -> AuthorizationRequest:
        """Where to send the browser: fresh state, nonce and PKCE verifier, each 256 random
        bits. `silent` (prompt=none) signs in someone who already is signed in at the
        provider without showing anything, or comes back with `login_required`."""
        state, nonce, code_verifier = (secrets.token_urlsafe(32) for _ in range(3))
        extra = {"nonce": nonce}
        if silent:
            extra["prompt"] = "none"
        with self._client() as client:
            url, _ = client.create_authorization_url(self.provider().authorization_endpoint, state=state,
                                                     code_verifier=code_verifier, **extra)
        return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=code_verifier)

    def redeem_code(self, *, code: str, code_verifier: str) -> dict:
        """The provider's token response for this authorization code (its id_token still to
        verify). A refused code is SsoRefused; a provider away, SsoUnavailable."""
        endpoint = self.provider().token_endpoint
        timeout = self.config["TIMEOUT_SECONDS"]

        def fetch():
            try:
                with self._client() as client:
                    return dict(client.fetch_token(endpoint, grant_type="authorization_code", code=code,
                                                   code_verifier=code_verifier, timeout=timeout,
                                                   allow_redirects=False))
            except (requests.RequestException, ValueError) as error:
                raise SsoUnavailable() from error

        try:
            return self._guarded(fetch)
        except AuthlibOAuthError as error:  # the provider answered, and refused: not an outage
            raise SsoRefused() from error


# The bank's provider for its customers (docs/adr/0013), and its workforce provider for staff
# who sign in with single sign-on (docs/adr/0017).
customers = RelyingParty("CUSTOMER_OIDC", "the bank's OpenID provider", "customer sign-ins refused")
staff = RelyingParty("STAFF_OIDC", "the bank's workforce OpenID provider", "staff single sign-on refused")
