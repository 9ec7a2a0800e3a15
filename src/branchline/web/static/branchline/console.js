// The staff console (/console/): waiting queue, conversations in progress and ended, many
// chats at once with live unread counts, typing and delivered/read marks.
import { api, BranchlineSocket, newClientMessageId } from "./socket.js";
import { applyReceipts, el, isNearBottom, messageNode, setState } from "./render.js";

const $ = (id) => document.getElementById(id);
const me = Number($("console").dataset.userId);
const list = $("messages");
const lists = { active: new Map(), waiting: new Map(), ended: new Map() };
const state = { tab: "active", selected: null, oldestSeq: null, typingTimer: null, lastTypingSent: 0 };
const socket = new BranchlineSocket({ onEvent, onStatus });

function onStatus(status) {
  const node = $("status");
  node.className = `status ${status}`;
  node.textContent = status === "online" ? gettext("Connected") : gettext("Reconnecting…");
}

async function loadLists() {
  const [active, waiting] = await Promise.all([api("/staff/conversations?state=active"), api("/staff/conversations?state=waiting")]);
  lists.active = new Map(active.map((c) => [c.id, c]));
  lists.waiting = new Map(waiting.map((c) => [c.id, c]));
  for (const c of active) socket.follow(c.id, c.last_seq);
  if (state.tab === "ended") await loadEnded();
  renderList();
}

async function loadEnded() {
  const ended = await api("/staff/conversations?state=ended");
  lists.ended = new Map(ended.map((c) => [c.id, c]));
}

function place(c) {
  for (const map of Object.values(lists)) map.delete(c.id);
  if (c.state === "waiting") lists.waiting.set(c.id, c);
  else if (c.assigned_agent && c.assigned_agent.id === me) lists[c.state].set(c.id, c);
}

function find(id) {
  return lists.active.get(id) || lists.waiting.get(id) || lists.ended.get(id);
}

const when = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", day: "numeric", month: "short" });

function renderList() {
  const items = [...lists[state.tab].values()];
  items.sort((a, b) => state.tab === "waiting" ? a.created_at.localeCompare(b.created_at)
                                               : b.last_message_at.localeCompare(a.last_message_at));
  const nodes = items.map((c) => {
    const button = el("button", { type: "button", "data-id": c.id });
    if (c.id === state.selected) button.setAttribute("aria-current", "true");
    button.append(el("span", { class: "name" }, c.customer.name));
    const badge = el("span", { class: "badge unread", "aria-label": interpolate(gettext("%s unread"), [c.unread_count]) },
                     c.unread_count ? String(c.unread_count) : "");
    badge.hidden = !c.unread_count;
    button.append(badge);
    button.append(el("span", { class: "topic" }, `${c.topic.name} · ${c.case_type.name}`));
    button.append(el("span", { class: "when" }, when.format(new Date(c.last_message_at))));
    button.addEventListener("click", () => select(c.id));
    return el("li", {}, null).appendChild(button).parentNode;
  });
  if (!nodes.length) nodes.push(el("li", { class: "empty-list" }, gettext("Nothing here.")));
  $("list").replaceChildren(...nodes);
  $("count-active").textContent = lists.active.size || "";
  $("count-waiting").textContent = lists.waiting.size || "";
  const unread = [...lists.active.values()].reduce((n, c) => n + c.unread_count, 0);
  document.title = (unread ? `(${unread}) ` : "") + gettext("Branchline console");
}

function selectTab(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll(".tabs button")) {
    button.setAttribute("aria-selected", String(button.dataset.state === tab));
  }
  (tab === "ended" ? loadEnded() : Promise.resolve()).then(renderList);
}

async function select(id) {
  state.selected = id;
  renderList();
  $("empty").hidden = true;
  $("detail").hidden = false;
  list.replaceChildren();
  renderDetail();
  await loadPage(null);
  list.scrollTop = list.scrollHeight;
  const c = find(id);
  if (c) { socket.follow(id, c.last_seq); markRead(c); }
  $("body").focus();
}

async function loadPage(beforeSeq) {
  const id = state.selected;
  const query = new URLSearchParams({ limit: "50" });
  if (beforeSeq) query.set("before_seq", beforeSeq);
  const page = await api(`/staff/conversations/${id}/messages?${query}`);
  if (id !== state.selected) return;
  const c = find(id);
  const previousHeight = list.scrollHeight;
  const previousTop = list.scrollTop;
  const anchor = list.firstChild;
  for (const message of page.messages) {
    message.customer_name = c ? c.customer.name : null;
    list.insertBefore(messageNode(message, "agent"), anchor);
    socket.track(id, message.seq);
  }
  state.oldestSeq = page.messages.length ? page.messages[0].seq : null;
  $("load-earlier").hidden = !page.has_more;
  if (beforeSeq) list.scrollTop = previousTop + (list.scrollHeight - previousHeight);
  if (c) applyReceipts(list, c.id, c.customer_delivered_seq, c.customer_read_seq);
}

function renderDetail() {
  const c = find(state.selected);
  if (!c) return;
  $("detail-title").textContent = c.customer.name + (c.customer.authenticated ? "" : ` (${gettext("guest")})`);
  const states = { waiting: gettext("Waiting"), active: gettext("In progress"), ended: gettext("Ended") };
  $("detail-sub").textContent = `${c.topic.name} · ${c.case_type.name} · ${interpolate(gettext("case #%s"), [c.case_id])} · ${states[c.state]}`;
  const mine = c.assigned_agent && c.assigned_agent.id === me;
  $("accept").hidden = c.state !== "waiting";
  $("end").hidden = !(mine && c.state === "active");
  $("composer").hidden = !(mine && c.state === "active");
}

function markRead(c) {
  if (!c || c.state !== "active" || document.visibilityState !== "visible") return;
  if (c.read_seq < c.last_seq) {
    c.read_seq = c.last_seq;
    c.unread_count = 0;
    socket.sendRaw({ type: "receipt", conversation_id: c.id, read_seq: c.last_seq });
    renderList();
  }
}

function onEvent(event) {
  switch (event.type) {
    case "ready":
      loadLists();
      break;
    case "session.resync":
      loadLists();
      break;
    case "message.created": {
      const m = event.message;
      const c = find(m.conversation_id);
      if (c) {
        c.last_seq = Math.max(c.last_seq, m.seq);
        c.last_message_at = m.created_at;
        if (m.sender === "customer") c.unread_count += 1;
      }
      if (m.conversation_id === state.selected) {
        const stick = isNearBottom(list);
        m.customer_name = c ? c.customer.name : null;
        const existing = list.querySelector(`.msg[data-id="${m.id}"]`)
          || (m.sender === "agent" && m.client_message_id && list.querySelector(`.msg[data-client-id="${CSS.escape(m.client_message_id)}"]`));
        const node = messageNode(m, "agent");
        if (existing) existing.replaceWith(node); else list.append(node);
        if (stick || m.sender === "agent") list.scrollTop = list.scrollHeight;
        if (m.sender === "customer") { showTyping(false); markRead(c); }
        if (c) applyReceipts(list, c.id, c.customer_delivered_seq, c.customer_read_seq);
      } else if (c && c.state === "active" && m.sender === "customer") {
        socket.sendRaw({ type: "receipt", conversation_id: c.id, delivered_seq: m.seq });
      }
      renderList();
      break;
    }
    case "conversation.updated": {
      const known = find(event.conversation.id);
      place(event.conversation);
      if (known && event.conversation.state === "active" && known.state === "waiting" && event.conversation.assigned_agent.id === me) {
        socket.follow(event.conversation.id, 0);
      }
      renderList();
      if (event.conversation.id === state.selected) renderDetail();
      break;
    }
    case "queue.left": {
      const c = lists.waiting.get(event.conversation_id);
      if (c) {
        lists.waiting.delete(event.conversation_id);
        renderList();
        if (event.conversation_id === state.selected) {
          $("accept").hidden = true;
          $("detail-sub").textContent = gettext("A colleague took this conversation, or it ended.");
        }
      }
      break;
    }
    case "receipt.updated": {
      const c = find(event.conversation_id);
      if (c && event.side === "customer") {
        c.customer_delivered_seq = event.delivered_seq;
        c.customer_read_seq = event.read_seq;
        if (c.id === state.selected) applyReceipts(list, c.id, event.delivered_seq, event.read_seq);
      }
      break;
    }
    case "typing":
      if (event.conversation_id === state.selected) showTyping(event.is_typing);
      break;
    case "unauthorized":
      location.href = "/console/login/";
      break;
  }
}

function showTyping(on) {
  clearTimeout(state.typingTimer);
  const c = find(state.selected);
  $("typing").textContent = on && c ? interpolate(gettext("%s is typing…"), [c.customer.name]) : "";
  if (on) state.typingTimer = setTimeout(() => showTyping(false), 6000);
}

async function send(event) {
  event.preventDefault();
  const body = $("body").value.trim();
  $("composer-error").textContent = "";
  if (!body) { $("composer-error").textContent = gettext("Write a reply first."); return; }
  const id = state.selected;
  const clientId = newClientMessageId();
  const pending = messageNode({ sender: "agent", text: body, created_at: new Date().toISOString(), conversation_id: id, seq: 0 }, "agent");
  pending.dataset.clientId = clientId;
  setState(pending, "pending");
  list.append(pending);
  list.scrollTop = list.scrollHeight;
  $("body").value = "";
  try {
    const ack = await socket.request({ type: "message.send", conversation_id: id, client_message_id: clientId, body });
    const current = list.querySelector(`.msg[data-client-id="${CSS.escape(clientId)}"]`);
    if (current) { const node = messageNode(ack.message, "agent"); current.replaceWith(node); setState(node, "sent"); }
    const c = find(id);
    if (c) applyReceipts(list, c.id, c.customer_delivered_seq, c.customer_read_seq);
  } catch (error) {
    setState(pending, "failed");
    $("composer-error").textContent = error.message;
    $("body").value = body;
  }
}

async function act(path) {
  try {
    const c = await api(`/staff/conversations/${state.selected}/${path}`, { method: "POST" });
    place(c);
    if (path === "accept") { selectTab("active"); socket.follow(c.id, 0); }
    renderList();
    renderDetail();
    markRead(find(c.id));
  } catch (error) {
    $("composer-error").textContent = error.message;
    alertInPane(error.message);
  }
}

function alertInPane(text) {
  $("detail-sub").textContent = text;
}

for (const button of document.querySelectorAll(".tabs button")) button.addEventListener("click", () => selectTab(button.dataset.state));
$("accept").addEventListener("click", () => act("accept"));
$("end").addEventListener("click", () => { if (confirm(gettext("End this conversation?"))) act("end"); });
$("composer").addEventListener("submit", send);
$("load-earlier").addEventListener("click", () => loadPage(state.oldestSeq));
$("body").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
});
$("body").addEventListener("input", () => {
  const c = find(state.selected);
  if (!c || c.state !== "active") return;
  const now = Date.now();
  if (now - state.lastTypingSent > 2500) {
    state.lastTypingSent = now;
    socket.sendRaw({ type: "typing", conversation_id: c.id, is_typing: true });
  }
});
document.addEventListener("visibilitychange", () => markRead(find(state.selected)));
socket.connect();
