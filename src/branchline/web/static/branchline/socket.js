// The Branchline socket client shared by the customer widget and the staff console.
// It speaks docs/protocol.md: hello (+ resume cursors), reconnect with backoff, retried
// sends by client_message_id (the server makes retries no-ops), and it drops any
// message.created it has already seen, so the UI receives each message once, in order.

export function newClientMessageId() {
  return (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`);
}

export class BranchlineSocket {
  constructor({ token = null, onEvent, onStatus }) {
    this.token = token;
    this.onEvent = onEvent;
    this.onStatus = onStatus || (() => {});
    this.cursors = {};          // conversation id -> last seq handed to the UI
    this.pending = new Map();   // ref -> {frame, resolve, reject}
    this.nextRef = 1;
    this.backoff = 500;
    this.closedByUs = false;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.ws = new WebSocket(`${scheme}://${location.host}/ws`);
    this.ws.onopen = () => {
      const hello = { type: "hello", resume: this.cursors };
      if (this.token) hello.token = this.token;
      this.ws.send(JSON.stringify(hello));
    };
    this.ws.onmessage = (e) => this.receive(JSON.parse(e.data));
    this.ws.onclose = (e) => {
      this.ready = false;
      if (this.closedByUs) return;
      this.onStatus("offline");
      if (e.code === 4401) { this.onEvent({ type: "unauthorized" }); return; }
      const wait = this.backoff * (0.75 + Math.random() / 2);
      this.backoff = Math.min(this.backoff * 2, 10000);
      setTimeout(() => this.connect(), wait);
    };
  }

  close() { this.closedByUs = true; this.ws && this.ws.close(); }

  track(conversationId, seq) {
    if (seq > (this.cursors[conversationId] || 0)) this.cursors[conversationId] = seq;
  }

  // Tell the server which conversation we now follow and what we already have.
  follow(conversationId, afterSeq) {
    this.track(conversationId, afterSeq);
    this.sendRaw({ type: "resume", conversation_id: conversationId, after_seq: this.cursors[conversationId] });
  }

  receive(event) {
    if (event.type === "ready") {
      this.ready = true;
      this.backoff = 500;
      this.onStatus("online");
      for (const item of this.pending.values()) this.sendRaw(item.frame);  // retried: no-ops if stored
    } else if (event.type === "message.created") {
      const m = event.message;
      const known = this.cursors[m.conversation_id];
      if (known !== undefined && m.seq <= known) return;
      this.cursors[m.conversation_id] = m.seq;
    } else if (event.type === "message.ack" || event.type === "receipt.ack" || event.type === "pong") {
      const item = this.pending.get(event.ref);
      if (item) { this.pending.delete(event.ref); item.resolve(event); }
    } else if (event.type === "error" && event.ref !== undefined && this.pending.has(event.ref)) {
      const item = this.pending.get(event.ref);
      this.pending.delete(event.ref);
      item.reject(event.error);
      return;
    }
    this.onEvent(event);
  }

  sendRaw(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && (this.ready || frame.type === "hello")) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  // Resolves once the server has stored the message; survives reconnects.
  request(frame) {
    const ref = `r${this.nextRef++}`;
    frame = { ...frame, ref };
    return new Promise((resolve, reject) => {
      this.pending.set(ref, { frame, resolve, reject });
      this.sendRaw(frame);
    });
  }

  sendMessage(fields) {
    return this.request({ type: "message.send", client_message_id: newClientMessageId(), ...fields });
  }
}

export async function api(path, { method = "GET", token = null, body = null } = {}) {
  const headers = { "Accept": "application/json" };
  if (body !== null) headers["Content-Type"] = "application/json";
  if (token) headers["Authorization"] = `Bearer ${token}`;
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  if (csrf && method !== "GET") headers["X-CSRFToken"] = csrf.split("=")[1];
  const response = await fetch(`/api${path}`, { method, headers, body: body === null ? null : JSON.stringify(body),
                                                credentials: "same-origin" });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data && data.error) || { code: "http_" + response.status, message: response.statusText };
    error.status = response.status;
    throw error;
  }
  return data;
}
