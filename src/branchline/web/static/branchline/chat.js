// The customer widget (/chat/): guest or signed-in customer, one live socket, history
// paged from the API, unread marker on return, typing and delivered/read marks.
import { acceptFor, canRecord, carriesFiles, formatSize, VoiceRecorder } from "./files.js";
import { languageMenu } from "./language.js";
import { api, BranchlineSocket, fetchBlob, newClientMessageId } from "./socket.js";
import { applyReceipts, dayNode, el, isNearBottom, messageNode, setFileFetcher, setState } from "./render.js";
import { lengthStatus } from "./text.js";

const TOKEN_KEY = "branchline.customer-token";
const SILENT_TRIED_KEY = "branchline.sso-silent-tried";
const BINDING_KEY = "branchline.sso-binding";  // this tab's sign-in in progress (docs/protocol.md §2)
const SSO_MESSAGE = "branchline.sso";
const $ = (id) => document.getElementById(id);
const list = $("messages");
const MESSAGE_MAX = Number($("chat").dataset.messageMax) || 4000;
const state = { token: sessionStorage.getItem(TOKEN_KEY), me: null, conversation: null, oldestId: null,
                socket: null, typingTimer: null, lastTypingSent: 0, agentName: null, lastDay: null,
                file: null, recorder: null };
setFileFetcher((id) => fetchBlob(`/customer/files/${id}`, state.token));

function show(section) {
  $("welcome").hidden = section !== "welcome";
  $("conversation").hidden = section !== "conversation";
}

function setStatus(status) {
  const node = $("status");
  node.className = `status ${status}`;
  node.textContent = status === "online" ? gettext("Connected") : gettext("Reconnecting…");
}

async function startGuest() {
  try {
    const session = await api("/customer/sessions/anonymous", { method: "POST" });
    state.token = session.token;
    sessionStorage.setItem(TOKEN_KEY, state.token);
    await start();
  } catch (error) {
    $("status").textContent = error.message;
  }
}

async function start() {
  try {
    state.me = await api("/customer/me", { token: state.token });
  } catch (error) {
    if (error.status === 401) return signOut(false);
    throw error;
  }
  const customer = state.me.customer;
  $("who").textContent = customer.authenticated
    ? interpolate(gettext("Signed in as %s"), [customer.name]) : gettext("Chatting as a guest");
  $("sign-out").hidden = false;
  if ($("step-up")) $("step-up").hidden = customer.authenticated;
  state.conversation = state.me.conversation;
  offerWhatTheChatCarries(state.me.carries || []);
  show("conversation");
  await loadTopics();
  await loadPage(null, state.me.unread_count);
  renderConversationState();
  connect();
  list.scrollTop = list.scrollHeight;
}

async function loadTopics() {
  const topics = await api("/topics");
  const select = $("topic");
  select.replaceChildren(el("option", { value: "" }, gettext("Choose a topic")));
  for (const topic of topics) select.append(el("option", { value: topic.id }, topic.name));
}

// Pages come newest first; `unread` marks how many of the newest bank messages are new.
async function loadPage(beforeId, unread = 0) {
  if (state.loading) return null;
  state.loading = true;
  try { return await loadPageNow(beforeId, unread); } finally { state.loading = false; }
}

async function loadPageNow(beforeId, unread) {
  const query = new URLSearchParams({ limit: "30" });
  if (beforeId) query.set("before_id", beforeId);
  const page = await api(`/customer/messages?${query}`, { token: state.token });
  const anchor = list.firstChild;
  const previousHeight = list.scrollHeight;
  const previousTop = list.scrollTop;
  const nodes = [];
  let lastDay = null;
  for (const message of page.messages) {
    const day = new Date(message.created_at).toDateString();
    if (day !== lastDay) { nodes.push(dayNode(new Date(message.created_at))); lastDay = day; }
    nodes.push(messageNode(message, "customer"));
    if (state.socket) state.socket.track(message.conversation_id, message.seq);
  }
  if (!beforeId) state.lastDay = lastDay;
  if (unread > 0) {
    const fromBank = nodes.filter((n) => n.classList.contains("theirs") || n.classList.contains("system"));
    const first = fromBank[Math.max(0, fromBank.length - unread)];
    if (first) nodes.splice(nodes.indexOf(first), 0, el("li", { class: "divider", id: "unread-divider" }, gettext("New messages")));
    const badge = $("unread-badge");
    badge.textContent = interpolate(ngettext("%s new", "%s new", unread), [unread]);
    badge.hidden = false;
  }
  for (const node of nodes) list.insertBefore(node, anchor);
  if (page.messages.length) state.oldestId = page.messages[0].id;
  $("load-earlier").hidden = !page.has_more;
  if (beforeId) list.scrollTop = previousTop + (list.scrollHeight - previousHeight);  // keep the reader's place
  refreshReceipts();
  return page;
}

function connect() {
  state.socket = new BranchlineSocket({ token: state.token, onEvent: onEvent, onStatus: setStatus });
  for (const li of list.querySelectorAll(".msg[data-seq]")) {
    state.socket.track(Number(li.dataset.conversation), Number(li.dataset.seq));
  }
  state.socket.connect();
}

function onEvent(event) {
  switch (event.type) {
    case "ready":
      if (event.conversation) { state.conversation = event.conversation; renderConversationState(); }
      markRead();
      break;
    case "message.created":
      addMessage(event.message);
      break;
    case "conversation.updated":
      if (!state.conversation || event.conversation.id >= state.conversation.id) {
        state.conversation = event.conversation;
        renderConversationState();
      }
      break;
    case "receipt.updated":
      if (event.side === "agent") applyReceipts(list, event.conversation_id, event.delivered_seq, event.read_seq);
      break;
    case "typing":
      showTyping(event.is_typing);
      break;
    case "session.resync":
      api("/customer/me", { token: state.token }).then((me) => { state.conversation = me.conversation; renderConversationState(); });
      break;
    case "unauthorized":
      if (!state.redeeming) signOut(false);
      break;
  }
}

function addMessage(message) {
  const existing = list.querySelector(`.msg[data-id="${message.id}"]`)
    || (message.client_message_id && message.sender === "customer"
        && list.querySelector(`.msg.pending[data-client-id="${CSS.escape(message.client_message_id)}"]`));
  const stick = isNearBottom(list);
  const node = messageNode(message, "customer");
  if (existing) existing.replaceWith(node); else appendWithDay(node, message.created_at);
  if (message.sender === "customer") setState(node, "sent");
  if (message.sender !== "customer") {
    showTyping(false);
    state.socket.sendRaw({ type: "receipt", conversation_id: message.conversation_id, delivered_seq: message.seq });
    markRead();
  }
  refreshReceipts();
  if (stick || message.sender === "customer") list.scrollTop = list.scrollHeight;
}

function appendWithDay(node, isoDate) {
  const day = new Date(isoDate).toDateString();
  if (day !== state.lastDay) { list.append(dayNode(new Date(isoDate))); state.lastDay = day; }
  list.append(node);
}

function refreshReceipts() {
  const c = state.conversation;
  if (c) applyReceipts(list, c.id, c.agent_delivered_seq, c.agent_read_seq);
}

// Read = shown on a visible page. The divider stays until reload, so the customer sees
// where the new messages start.
function markRead() {
  const c = state.conversation;
  if (!c || document.visibilityState !== "visible" || !state.socket) return;
  const seqs = [...list.querySelectorAll(`.msg[data-conversation="${c.id}"]:not(.mine)`)].map((n) => Number(n.dataset.seq));
  const top = Math.max(0, ...seqs);
  if (top > (c.read_seq || 0)) {
    c.read_seq = top;
    state.socket.sendRaw({ type: "receipt", conversation_id: c.id, read_seq: top });
  }
}

function renderConversationState() {
  const c = state.conversation;
  const open = c && c.state !== "ended";
  const guest = state.me && !state.me.customer.authenticated;
  $("topic-row").hidden = Boolean(open);
  $("topic").required = !open;
  const endedForGuest = guest && c && c.state === "ended" && !state.startingNew;
  $("ended").hidden = !endedForGuest;
  $("composer").hidden = Boolean(endedForGuest);
  if (endedForGuest) $("ended-text").textContent = gettext("This conversation has ended. Guests chat live only, so nobody can write to you here any more.");
  if (c && c.agent_name) state.agentName = c.agent_name;
  offerFiles();
  refreshReceipts();
}

function showTyping(on) {
  clearTimeout(state.typingTimer);
  $("typing").textContent = on ? interpolate(gettext("%s is typing…"), [state.agentName || gettext("The agent")]) : "";
  if (on) state.typingTimer = setTimeout(() => showTyping(false), 6000);
}

async function send(event) {
  event.preventDefault();
  const body = $("body").value.trim();
  const c = state.conversation;
  const open = c && c.state !== "ended";
  $("composer-error").textContent = "";
  const file = state.file;
  if (!body && !file) { $("composer-error").textContent = gettext("Write a message first."); return; }
  const length = lengthStatus(body, MESSAGE_MAX);
  if (length.over) {
    $("composer-error").textContent = interpolate(
      gettext("Your message is %s characters long; the limit is %s. Shorten it to send it."), [length.length, MESSAGE_MAX]);
    $("body").focus();
    return;
  }
  const fields = { body };
  if (!open) {
    if (!$("topic").value) { $("composer-error").textContent = gettext("Choose a topic first."); $("topic").focus(); return; }
    fields.topic_id = Number($("topic").value);
  }
  const clientId = newClientMessageId();
  const shown = file ? `${file.name}${body ? `\n${body}` : ""}` : body;
  const pending = messageNode({ sender: "customer", text: shown, created_at: new Date().toISOString(),
                                conversation_id: c ? c.id : 0, seq: 0 }, "customer");
  pending.dataset.clientId = clientId;
  setState(pending, "pending");
  appendWithDay(pending, new Date().toISOString());
  list.scrollTop = list.scrollHeight;
  $("body").value = "";
  attach(null);
  renderCounter();
  sendTyping(false);
  try {
    if (file) {  // uploaded (scanned, checked) first; then sent like any message, by its id
      const form = new FormData();
      form.append("file", file);
      fields.attachment_id = (await api("/customer/files", { method: "POST", body: form, token: state.token })).id;
    }
    const ack = await state.socket.request({ type: "message.send", client_message_id: clientId, ...fields });
    const current = list.querySelector(`.msg[data-client-id="${CSS.escape(clientId)}"]`);
    if (current) { const node = messageNode(ack.message, "customer"); current.replaceWith(node); setState(node, "sent"); }
    state.startingNew = false;
  } catch (error) {
    setState(pending, "failed");
    $("composer-error").textContent = error.message;
    if (error.code !== "rate_limited") { $("body").value = body; renderCounter(); }
    if (file && !fields.attachment_id && !["file_infected", "file_type_not_allowed"].includes(error.code)) attach(file);
  }
}

// --- Files and voice messages (docs/protocol.md §16) -----------------------------------
// Offered only as far as the chat's channel carries them; the server checks again.
function offerWhatTheChatCarries(carries) {
  state.offers = { files: carriesFiles(carries), voice: canRecord(carries) };
  $("file-input").accept = acceptFor(carries);
  state.maxFileMb = state.me.max_file_mb;
  offerFiles();
}

// A guest attaches files in their conversation once it is open (they write their question first).
function offerFiles() {
  const c = state.conversation;
  const may = Boolean(state.me && (state.me.customer.authenticated || (c && c.state !== "ended")));
  $("attach").hidden = !(state.offers && state.offers.files && may);
  $("record").hidden = !(state.offers && state.offers.voice && may);
}

// The file waiting to go with the next message (null: none).
function attach(file) {
  state.file = file;
  $("attached").hidden = !file;
  $("attached-name").textContent = file ? `${file.name} · ${formatSize(file.size)}` : "";
  if (file && state.maxFileMb && file.size > state.maxFileMb * 1024 * 1024) {
    $("composer-error").textContent = interpolate(gettext("The file is larger than %s MB."), [state.maxFileMb]);
    state.file = null;
    $("attached").hidden = true;
  }
}

async function toggleRecording() {
  const button = $("record");
  $("composer-error").textContent = "";
  if (state.recorder && state.recorder.recording) {
    const file = await state.recorder.stop();
    state.recorder = null;
    button.setAttribute("aria-pressed", "false");  // app.css shows the microphone again
    attach(file);
    $("body").focus();
    return;
  }
  try {
    state.recorder = new VoiceRecorder();
    await state.recorder.start();
    button.setAttribute("aria-pressed", "true");  // app.css shows "stop"
  } catch (error) {
    state.recorder = null;
    $("composer-error").textContent = gettext("The microphone cannot be used: allow it in your browser to record.");
  }
}

// Near the limit a counter shows how long the message is; the text is never cut.
function renderCounter() {
  const length = lengthStatus($("body").value, MESSAGE_MAX);
  const counter = $("body-counter");
  counter.hidden = !length.show;
  counter.textContent = length.show ? interpolate(gettext("%s / %s characters"), [length.length, MESSAGE_MAX]) : "";
  counter.classList.toggle("over", length.over);
  if (length.over) $("body").setAttribute("aria-invalid", "true"); else $("body").removeAttribute("aria-invalid");
}

function sendTyping(on) {
  const c = state.conversation;
  if (!c || c.state === "ended" || !state.socket) return;
  const now = Date.now();
  if (on && now - state.lastTypingSent < 2500) return;
  state.lastTypingSent = on ? now : 0;
  state.socket.sendRaw({ type: "typing", conversation_id: c.id, is_typing: on });
}

async function signOut(callServer = true) {
  if (callServer && state.token) await api("/customer/session", { method: "DELETE", token: state.token }).catch(() => {});
  sessionStorage.removeItem(TOKEN_KEY);
  if (state.socket) state.socket.close();
  Object.assign(state, { token: null, me: null, conversation: null, socket: null, lastDay: null, oldestId: null,
                        agentName: null, startingNew: false });
  list.replaceChildren();
  attach(null);
  $("unread-badge").hidden = true;
  $("sign-out").hidden = true;
  if ($("step-up")) $("step-up").hidden = true;
  $("who").textContent = "";
  $("status").textContent = "";
  show("welcome");
}

// --- Signing in with the bank (docs/protocol.md §2) ------------------------------------
// The server runs the OpenID Connect flow; the widget only opens the bank's page and, when
// the browser comes back to /chat/#sso=<code>, exchanges that single-use code for its token.
// Framed in the bank's site, the bank's page opens in a pop-up (a provider's sign-in page
// refuses to be framed) and hands the code back by postMessage to this same origin.
const framed = window.top !== window.self;

async function signInWithBank({ silent = false } = {}) {
  $("sign-in-error").textContent = "";
  const popup = framed && !silent ? window.open("about:blank", "branchline-sso", "popup,width=480,height=680") : null;
  state.popup = popup;
  try {
    // A guest sends their token: their conversation stays theirs once signed in (step-up).
    const start = await api("/customer/sso/start", { method: "POST", body: { silent }, token: state.token });
    sessionStorage.setItem(BINDING_KEY, start.binding);
    if (popup) popup.location.href = start.authorize_url; else location.assign(start.authorize_url);
  } catch (error) {
    if (popup) popup.close();
    signInError(error.message);
  }
}

// Where the person is looking: the welcome panel, or under the composer mid-chat.
function signInError(text) {
  $(state.token ? "composer-error" : "sign-in-error").textContent = text;
}

async function redeem(code) {
  // While it is redeemed, a guest's socket may hear its token end (the step-up ends it):
  // that is not a sign-out. The binding stays until it has served (a 429 or 503 may be retried).
  state.redeeming = true;
  try {
    const binding = sessionStorage.getItem(BINDING_KEY) || "";
    const session = await api("/customer/sessions/sso", { method: "POST", body: { code, binding } });
    sessionStorage.removeItem(BINDING_KEY);
    if (state.socket) { state.socket.close(); state.socket = null; }
    list.replaceChildren();
    Object.assign(state, { token: session.token, socket: null, lastDay: null, oldestId: null });
    sessionStorage.setItem(TOKEN_KEY, state.token);
    await start();
  } catch (error) {
    if (!state.token) show("welcome");  // a guest mid-chat keeps chatting
    signInError(error.message);
  } finally {
    state.redeeming = false;
  }
}

const SSO_ERRORS = {
  sso_unavailable: () => gettext("The bank's sign-in does not answer just now. Try again in a moment, or continue as a guest."),
  sso_access_denied: () => gettext("Signing in was cancelled."),
};

function ssoErrorText(code) {
  return (SSO_ERRORS[code] || (() => gettext("Signing in with the bank did not work. Please try again.")))();
}

// Back from the bank's page: #sso=<code> or #sso_error=<code>, read once and removed.
function returnedFromBank() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const code = fragment.get("sso"), failure = fragment.get("sso_error");
  if (!code && !failure) return false;
  history.replaceState(null, "", location.pathname + location.search);
  if (code) { redeem(code); return true; }
  if (failure === "sso_login_required" || failure === "sso_interaction_required") return false;  // silent: not signed in at the bank
  show("welcome");
  $("sign-in-error").textContent = ssoErrorText(failure);
  return true;
}

// The pop-up's page (sso_done.js) hands the code over; only the pop-up this widget opened.
window.addEventListener("message", (event) => {
  if (event.origin !== location.origin || !event.data || event.data.type !== SSO_MESSAGE) return;
  if (!state.popup || event.source !== state.popup) return;
  event.source.postMessage({ type: "branchline.sso.received" }, location.origin);
  state.popup = null;
  if (event.data.code) redeem(event.data.code);
  else if (event.data.error) signInError(ssoErrorText(event.data.error));
});

const bankSignIn = $("chat").dataset.bankSignIn === "1";
if (bankSignIn) {
  $("sign-in-bank").addEventListener("click", () => signInWithBank());
  $("step-up").addEventListener("click", () => signInWithBank());
}

languageMenu($("language"));
$("guest").addEventListener("click", startGuest);
$("sign-out").addEventListener("click", () => signOut(true));
$("composer").addEventListener("submit", send);
$("attach").addEventListener("click", () => $("file-input").click());
$("file-input").addEventListener("change", (event) => {
  $("composer-error").textContent = "";
  attach(event.target.files[0] || null);
  event.target.value = "";
  $("body").focus();
});
$("attached-remove").addEventListener("click", () => { attach(null); $("body").focus(); });
$("record").addEventListener("click", toggleRecording);
$("load-earlier").addEventListener("click", () => loadPage(state.oldestId));
$("new-conversation").addEventListener("click", () => {
  state.startingNew = true;
  renderConversationState();
  $("topic-row").hidden = false;
  $("topic").focus();
});
$("body").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
});
$("body").addEventListener("input", () => {
  renderCounter();
  sendTyping(true);
  clearTimeout(state.idleTimer);
  state.idleTimer = setTimeout(() => sendTyping(false), 4000);
});
$("body").addEventListener("focus", () => { $("unread-badge").hidden = true; });
document.addEventListener("visibilitychange", markRead);
// Scrolling to the top of the history loads the page before it.
list.addEventListener("scroll", () => {
  if (list.scrollTop < 40 && !$("load-earlier").hidden) loadPage(state.oldestId);
});

if (returnedFromBank()) {
  // handled: the code is being redeemed, or the pop-up handed it over and closed
} else if (state.token) {
  start();
} else if (bankSignIn && !framed && !sessionStorage.getItem(SILENT_TRIED_KEY)) {
  // Signed in to internet banking already? Then no second sign-in: ask the bank once per
  // tab without showing anything (prompt=none); it answers login_required otherwise.
  sessionStorage.setItem(SILENT_TRIED_KEY, "1");
  signInWithBank({ silent: true });
} else {
  show("welcome");
  $("status").textContent = "";
}
