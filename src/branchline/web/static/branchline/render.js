// Rendering of the widget's messages. Text is always set as text nodes: nothing anyone
// writes is ever parsed as HTML; web links become <a> elements built here (text.js finds them).
import { coordinates, formatSize, mapLink } from "./files.js";
import { messageText } from "./lines.js";
import { LINK_ATTRIBUTES, linkParts } from "./text.js";

// Dates and times in the reader's language (the page's lang, which the server chose for them).
const locale = document.documentElement.lang || undefined;
const timeFormat = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(locale, { weekday: "short", day: "numeric", month: "short" });

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

// Files are fetched with the reader's token (fetchFile: attachment id -> Blob) and shown from
// blob: URLs, each fetched once per page.
let fetchFile = null;
const fileUrls = new Map();

export function setFileFetcher(fetcher) {
  fetchFile = fetcher;
}

function fileUrl(attachment) {
  if (!fileUrls.has(attachment.id)) {
    fileUrls.set(attachment.id, fetchFile(attachment.id).then((blob) => URL.createObjectURL(blob)));
  }
  return fileUrls.get(attachment.id);
}

function attachmentNode(attachment) {
  const box = el("span", { class: "attachment", "data-category": attachment.category });
  if (attachment.category === "image") {
    const image = el("img", { class: "attachment-image", alt: attachment.name });
    fileUrl(attachment).then((url) => { image.src = url; }).catch(() => image.replaceWith(gettext("The picture cannot be shown.")));
    box.append(image);
  } else if (attachment.category === "audio" || attachment.category === "video") {
    const media = el(attachment.category, { controls: "", preload: "metadata", "aria-label": attachment.name });
    fileUrl(attachment).then((url) => { media.src = url; }).catch(() => {});
    box.append(media);
  }
  // Saving it: the link gets its blob: address on first use, then works as a plain download.
  const link = el("a", { class: "attachment-link", href: "#", download: attachment.name },
                  `${attachment.name} · ${formatSize(attachment.size, locale)}`);
  link.addEventListener("click", async (event) => {
    if (link.dataset.ready) return;
    event.preventDefault();
    try {
      link.href = await fileUrl(attachment);
      link.dataset.ready = "1";
      link.click();
    } catch (error) {
      link.after(el("span", { class: "form-error" }, error.message || gettext("The file cannot be opened.")));
    }
  });
  box.append(link);
  return box;
}

function locationNode(place) {
  const box = el("span", { class: "location" });
  box.append(el("span", {}, `${coordinates(place, locale)} `));
  box.append(el("a", { ...LINK_ATTRIBUTES, href: mapLink(place) }, gettext("Open the map")));
  return box;
}

// mineSender: "customer" in the widget.
export function messageNode(message, mineSender) {
  const mine = message.sender === mineSender;
  const classes = ["msg", message.sender === "system" ? "system" : mine ? "mine" : "theirs"];
  const li = el("li", { class: classes.join(" "), "data-seq": message.seq,
                        "data-conversation": message.conversation_id, "data-id": message.id || "" });
  if (message.sender === "agent" && !mine && message.agent_name) li.append(el("span", { class: "author" }, message.agent_name));
  if (message.sender === "customer" && !mine) li.append(el("span", { class: "author" }, message.customer_name || gettext("Customer")));
  if (message.attachment) li.append(attachmentNode(message.attachment));
  if (message.location) li.append(locationNode(message.location));
  if (message.text || (!message.attachment && !message.location)) li.append(textNode(messageText(message)));
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
