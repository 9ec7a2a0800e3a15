// Rendering of the widget's messages. Text is always set as text nodes: nothing anyone
// writes is ever parsed as HTML; web links become <a> elements built here (text.js finds them).
import { LINK_ATTRIBUTES, linkParts } from "./text.js";

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });

export function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  if (text !== null) node.textContent = text;
  return node;
}

function textNode(text) {
  const span = el("span", { class: "text" });
  for (const part of linkParts(text)) span.append(part.href ? el("a", { ...LINK_ATTRIBUTES, href: part.href }, part.text) : part.text);
  return span;
}

// mineSender: "customer" in the widget.
export function messageNode(message, mineSender) {
  const mine = message.sender === mineSender;
  const classes = ["msg", message.sender === "system" ? "system" : mine ? "mine" : "theirs"];
  const li = el("li", { class: classes.join(" "), "data-seq": message.seq,
                        "data-conversation": message.conversation_id, "data-id": message.id || "" });
  if (message.sender === "agent" && !mine && message.agent_name) li.append(el("span", { class: "author" }, message.agent_name));
  if (message.sender === "customer" && !mine) li.append(el("span", { class: "author" }, message.customer_name || gettext("Customer")));
  li.append(textNode(message.text));
  if (message.sender !== "system") {
    const meta = el("span", { class: "meta" });
    meta.append(el("time", { datetime: message.created_at }, timeFormat.format(new Date(message.created_at))));
    if (mine) meta.append(el("span", { class: "state" }, ""));
    li.append(meta);
  }
  return li;
}

export function dayNode(date) {
  return el("li", { class: "day" }, dayFormat.format(date));  // a list item: role="separator" would break the list
}

export function setState(li, state) {
  const node = li.querySelector(".state");
  if (!node) return;
  const labels = { pending: gettext("Sending…"), sent: gettext("Sent"), delivered: gettext("Delivered"),
                   read: gettext("Read"), failed: gettext("Not sent") };
  node.textContent = ` · ${labels[state]}`;
  li.dataset.state = state;
  li.classList.toggle("pending", state === "pending");
  li.classList.toggle("failed", state === "failed");
}

// Mark the caller's own messages sent / delivered / read from the other side's receipts.
export function applyReceipts(list, conversationId, deliveredSeq, readSeq) {
  for (const li of list.querySelectorAll(`.msg.mine[data-conversation="${conversationId}"]`)) {
    const seq = Number(li.dataset.seq);
    if (!seq) continue;
    setState(li, seq <= readSeq ? "read" : seq <= deliveredSeq ? "delivered" : "sent");
  }
}

export function isNearBottom(list) {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}
