"""Passkeys (WebAuthn) as staff's second factor (docs/adr/0015), checked by py_webauthn.

After the password, the pending member of staff asks for options: to *register* a passkey
if they have no second factor yet (enrolment), or to *sign in* with one of theirs. The
challenge waits in their session, and is used once, whatever the answer. The browser's
answer comes back through second_factor.second_factor_verify, like a code.

The relying party id is WEBAUTHN_RP_ID (or the host name the request came to, which
ALLOWED_HOSTS limits) and the expected origin is the request's own: a page elsewhere,
a phishing copy included, gets a credential its authenticator binds to another id."""
import json
import time

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url, decode_credential_public_key, decoded_public_key_to_cryptography
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from branchline.core.errors import Unauthorized

from ..models import Passkey, User

CHALLENGE = "_branchline_passkey_challenge"  # session key: {"challenge", "mode", "user_id", "at"}
CHALLENGE_SECONDS = 300
REGISTER, SIGN_IN = "register", "sign_in"
TIMEOUT_MS = 120_000
NAME = "passkey"
RP_NAME = "Branchline"  # what the browser shows when it asks to create the passkey
_TRANSPORTS = {t.value for t in AuthenticatorTransport}
MAX_CREDENTIAL_ID_BYTES = 1023  # WebAuthn's limit; the column holds its base64url form


def has_passkey(user: User) -> bool:
    return Passkey.objects.filter(user=user).exists()


def relying_party(request) -> tuple[str, str]:
    """(rp id, expected origin) for this request."""
    host = request.get_host()  # validated against ALLOWED_HOSTS
    rp_id = settings.BRANCHLINE["WEBAUTHN_RP_ID"] or host.rsplit(":", 1)[0].strip("[]")
    return rp_id, f"{request.scheme}://{host}"


def options(request, user: User, *, enrolling: bool) -> dict:
    """The options for navigator.credentials.create (enrolling) or .get (a passkey of
    theirs), as WebAuthn's JSON; the challenge is kept in the session until used."""
    rp_id, _origin = relying_party(request)
    if enrolling:
        mode = REGISTER
        public_key = generate_registration_options(
            rp_id=rp_id, rp_name=RP_NAME,
            user_name=user.get_username(), user_display_name=user.display_name, timeout=TIMEOUT_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.PREFERRED),
            exclude_credentials=_descriptors(user))
    else:
        allow = _descriptors(user)
        if not allow:
            raise Unauthorized(_("You have no passkey: enter the code from your authenticator."), code="no_passkey")
        mode = SIGN_IN
        public_key = generate_authentication_options(rp_id=rp_id, timeout=TIMEOUT_MS, allow_credentials=allow,
                                                     user_verification=UserVerificationRequirement.PREFERRED)
    request.session[CHALLENGE] = {"challenge": bytes_to_base64url(public_key.challenge), "mode": mode,
                                  "user_id": user.id, "at": time.time()}
    # options_to_json gives a string; the API answers an object
    return {"mode": mode, "public_key": json.loads(options_to_json(public_key))}


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id),
                                          transports=[AuthenticatorTransport(t) for t in p.transports
                                                      if t in _TRANSPORTS])
            for p in Passkey.objects.filter(user=user).order_by("id")]


def check(request, user: User, credential, *, enrolling: bool) -> str | None:
    """The browser's answer to this session's challenge: REGISTER (a new passkey, saved;
    only while `enrolling`, i.e. they still have no second factor), SIGN_IN (one of theirs,
    its counter moved on) or None (refused: not an answer to our challenge, another origin
    or relying party, a bad signature, a counter gone back). Inside the caller's transaction."""
    pending = request.session.pop(CHALLENGE, None)
    if (not pending or pending["user_id"] != user.id or time.time() - pending["at"] > CHALLENGE_SECONDS
            or not isinstance(credential, dict)):
        return None
    rp_id, origin = relying_party(request)
    challenge = base64url_to_bytes(pending["challenge"])
    if pending["mode"] == REGISTER:
        # Registering needs no other factor: only someone who has none may (a passkey
        # added beside an authenticator would need that authenticator's code first).
        ok = enrolling and _register(user, credential, challenge, rp_id, origin)
        return REGISTER if ok else None
    return SIGN_IN if _sign_in(user, credential, challenge, rp_id, origin) else None


def _register(user: User, credential: dict, challenge: bytes, rp_id: str, origin: str) -> bool:
    try:
        verified = verify_registration_response(credential=credential, expected_challenge=challenge,
                                                expected_rp_id=rp_id, expected_origin=origin)
        # A key we could never verify a signature with (off its curve, an unknown one, cut
        # short) would sign no one in later: refuse it now, not at the next sign-in.
        decoded_public_key_to_cryptography(decode_credential_public_key(verified.credential_public_key))
    except Exception:  # noqa: BLE001 - the browser's CBOR and key material: anything it sends is refused, not a 500
        return False
    if len(verified.credential_id) > MAX_CREDENTIAL_ID_BYTES:
        return False
    credential_id = bytes_to_base64url(verified.credential_id)
    if Passkey.objects.filter(credential_id=credential_id).exists():
        return False  # already someone's: a credential belongs to one person
    transports = (credential.get("response") or {}).get("transports") or []
    Passkey.objects.create(
        user=user, credential_id=credential_id, public_key=verified.credential_public_key,
        sign_count=verified.sign_count, aaguid=verified.aaguid or "", name=NAME,
        transports=[t for t in transports if isinstance(t, str) and t in _TRANSPORTS])
    return True


def _sign_in(user: User, credential: dict, challenge: bytes, rp_id: str, origin: str) -> bool:
    passkey = (Passkey.objects.select_for_update().filter(user=user, credential_id=credential.get("id")).first()
               if isinstance(credential.get("id"), str) else None)
    if passkey is None:
        return False
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin,
            credential_public_key=bytes(passkey.public_key), credential_current_sign_count=passkey.sign_count)
    except Exception:  # noqa: BLE001 - whatever the browser's answer makes the parser raise is a refusal
        return False
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = timezone.now()
    passkey.save(update_fields=["sign_count", "last_used_at"])
    return True
