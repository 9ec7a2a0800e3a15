// The console's second-factor page: create a passkey (enrolment) or sign in with one. The
// server's options (POST /api/staff/session/passkey-options) go to the browser's
// authenticator; its answer, as WebAuthn's JSON, is posted with the page's form, which the
// server checks like a code (docs/adr/0015). The button shows only where passkeys work.
const button = document.getElementById("passkey-button");
const form = document.getElementById("passkey-form");
const answer = document.getElementById("passkey-answer");
const problem = document.getElementById("second-factor-error");

const toBase64url = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const fromBase64url = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
const withBytes = (descriptors) => (descriptors || []).map((d) => ({ ...d, id: fromBase64url(d.id) }));

function creationOptions(json) {
  return { ...json, challenge: fromBase64url(json.challenge), user: { ...json.user, id: fromBase64url(json.user.id) },
           excludeCredentials: withBytes(json.excludeCredentials) };
}

function requestOptions(json) {
  return { ...json, challenge: fromBase64url(json.challenge), allowCredentials: withBytes(json.allowCredentials) };
}

function credentialJson(credential) {
  const r = credential.response;
  const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
  if (r.attestationObject) {  // a new passkey
    Object.assign(response, { attestationObject: toBase64url(r.attestationObject),
                              transports: r.getTransports ? r.getTransports() : [] });
  } else {  // a passkey's signature
    Object.assign(response, { authenticatorData: toBase64url(r.authenticatorData), signature: toBase64url(r.signature),
                              userHandle: r.userHandle ? toBase64url(r.userHandle) : null });
  }
  return { id: credential.id, rawId: toBase64url(credential.rawId), type: credential.type, response,
           clientExtensionResults: credential.getClientExtensionResults(),
           authenticatorAttachment: credential.authenticatorAttachment || null };
}

function show(message) {
  problem.textContent = message;
  problem.hidden = false;
}

async function usePasskey() {
  button.disabled = true;
  problem.hidden = true;
  try {
    const token = form.querySelector("[name=csrfmiddlewaretoken]").value;
    const reply = await fetch(form.dataset.optionsUrl, { method: "POST", headers: { "X-CSRFToken": token },
                                                         credentials: "same-origin" });
    if (reply.status === 401) { location.reload(); return; }  // the password step ran out: start again
    if (!reply.ok) throw new Error(String(reply.status));
    const { mode, public_key: options } = await reply.json();
    const credential = mode === "register"
      ? await navigator.credentials.create({ publicKey: creationOptions(options) })
      : await navigator.credentials.get({ publicKey: requestOptions(options) });
    answer.value = JSON.stringify(credentialJson(credential));
    form.submit();
  } catch (error) {
    button.disabled = false;
    // NotAllowedError: the person cancelled, or the authenticator timed out.
    show(error && error.name === "NotAllowedError"
      ? gettext("The passkey was not used. Try again, or use a code.")
      : gettext("Passkeys do not work here right now. Use a code instead."));
  }
}

if (button && window.PublicKeyCredential && window.isSecureContext) {
  button.hidden = false;
  button.addEventListener("click", usePasskey);
}
