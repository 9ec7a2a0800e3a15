// The customer widget's socket client (docs/protocol.md): the shared connection
// (connection.js: hello, heartbeat, reconnect, retried sends) plus the widget's cursors. It
// drops any message.created it has already seen, so the UI receives each message once, in
// order, and resumes from the last seq it received.
import { Connection } from "./connection.js";

export function newClientMessageId() {
  return (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`);
}

export class BranchlineSocket {
  constructor({ token = null, onEvent, onStatus }) {
    this.onEvent = onEvent;
    this.cursors = {};  // conversation id -> last seq handed to the UI
    this.connection = new Connection({
      hello: () => ({ type: "hello", resume: this.cursors, ...(token ? { token } : {}) }),
      onEvent: (event) => this.receive(event),
      onStatus: onStatus || (() => {}),
      onUnauthorized: () => onEvent({ type: "unauthorized" }),
    });
  }

  connect() { this.connection.connect(); }

  close() { this.connection.close(); }

  track(conversationId, seq) {
    if (seq > (this.cursors[conversationId] || 0)) this.cursors[conversationId] = seq;
  }

  receive(event) {
    if (event.type === "message.created") {
      const m = event.message;
      const known = this.cursors[m.conversation_id];
      if (known !== undefined && m.seq <= known) return;
      this.cursors[m.conversation_id] = m.seq;
    }
    this.onEvent(event);
  }

  sendRaw(frame) { return this.connection.send(frame); }

  request(frame) { return this.connection.request(frame); }
}

export async function api(path, { method = "GET", token = null, body = null } = {}) {
  const headers = { "Accept": "application/json" };
  const form = body instanceof FormData;  // a file: the browser writes its multipart header
  if (body !== null && !form) headers["Content-Type"] = "application/json";
  if (token) headers["Authorization"] = `Bearer ${token}`;
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  if (csrf && method !== "GET") headers["X-CSRFToken"] = csrf.split("=")[1];
  const response = await fetch(`/api${path}`, { method, headers, body: body === null || form ? body : JSON.stringify(body),
                                                credentials: "same-origin" });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data && data.error) || { code: "http_" + response.status, message: response.statusText };
    error.status = response.status;
    throw error;
  }
  return data;
}

// A file the reader may open, as a Blob (the token cannot ride on a plain link).
export async function fetchBlob(path, token) {
  const response = await fetch(`/api${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {},
                                                credentials: "same-origin" });
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw (data && data.error) || { code: `http_${response.status}`, message: response.statusText };
  }
  return response.blob();
}
