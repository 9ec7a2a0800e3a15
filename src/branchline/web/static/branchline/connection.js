// A Branchline socket's life, shared by the customer widget (socket.js) and the staff console
// (frontend/src/console/protocol.ts): hello on open, a heartbeat, reconnect with jittered
// backoff, and requests kept until answered and sent again after every reconnect (sends are
// idempotent by client_message_id). It knows only what every socket has in common
// (docs/protocol.md §7): hello/ready, ping/pong, answers matched by `ref`, close 4401. What
// hello carries and what events mean is the caller's.

// A ping every 20 s; no frame within 10 s of it means the connection is dead even when the
// browser has not noticed (a silent network drop): drop it, reconnect, resume.
export const HEARTBEAT_INTERVAL_MS = 20000;
export const HEARTBEAT_TIMEOUT_MS = 10000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 10000;

export class Connection {
  // hello(): the hello frame to send on each (re)connection; onEvent(event): every server
  // event except errors answered to a request; onStatus("online" | "offline");
  // onUnauthorized(): closed 4401 (sign in again).
  constructor({ hello, onEvent, onStatus, onUnauthorized }) {
    Object.assign(this, { hello, onEvent, onStatus, onUnauthorized });
    this.ws = null;
    this.ready = false;
    this.closedByUs = false;
    this.backoff = BACKOFF_FIRST_MS;
    this.nextRef = 1;
    this.pending = new Map();  // ref -> {frame, resolve, reject}
    // Back online: try at once rather than at the end of the backoff.
    this.onOnline = () => {
      if (this.ready || this.closedByUs) return;
      this.backoff = BACKOFF_FIRST_MS;
      this.lost();
    };
    window.addEventListener("online", this.onOnline);
  }

  connect() {
    clearTimeout(this.reconnectTimer);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify(this.hello()));
    ws.onmessage = (e) => {
      clearTimeout(this.pongDeadline);  // any frame shows the connection is alive
      this.receive(JSON.parse(e.data));
    };
    ws.onclose = (e) => {
      if (e.code !== 4401) { this.lost(); return; }
      this.close();
      this.onStatus("offline");
      this.onUnauthorized();
    };
  }

  close() {
    this.closedByUs = true;
    window.removeEventListener("online", this.onOnline);
    this.lost();
  }

  // The connection is gone (closed, or silent past the heartbeat timeout): drop it and
  // reconnect with jittered exponential backoff; the next hello resumes.
  lost() {
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    clearInterval(this.heartbeat);
    clearTimeout(this.pongDeadline);
    clearTimeout(this.reconnectTimer);
    if (ws) { ws.onopen = ws.onmessage = ws.onclose = null; ws.close(); }
    if (this.closedByUs) return;
    this.onStatus("offline");
    const wait = this.backoff * (0.75 + Math.random() / 2);
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    this.reconnectTimer = setTimeout(() => this.connect(), wait);
  }

  ping() {
    clearTimeout(this.pongDeadline);
    this.pongDeadline = setTimeout(() => this.lost(), HEARTBEAT_TIMEOUT_MS);
    this.send({ type: "ping", ref: `hb${this.nextRef++}` });
  }

  receive(event) {
    if (event.type === "ready") {
      this.ready = true;
      this.backoff = BACKOFF_FIRST_MS;
      this.heartbeat = setInterval(() => this.ping(), HEARTBEAT_INTERVAL_MS);
      this.onStatus("online");
      for (const item of this.pending.values()) this.send(item.frame);  // retried: no-ops if stored
    }
    const item = event.ref != null ? this.pending.get(event.ref) : undefined;
    if (item) {
      this.pending.delete(event.ref);
      if (event.type === "error") {
        item.reject(Object.assign(new Error(event.error.message), event.error));
        return;
      }
      item.resolve(event);
    }
    this.onEvent(event);
  }

  // Best effort: dropped while disconnected (callers re-read state after the next ready).
  send(frame) {
    if (!this.ready || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  // Resolves with the answer (message.ack, receipt.ack, pong) once the server has it;
  // rejects with an Error carrying the error's `code`. Survives reconnects.
  request(frame) {
    const ref = `r${this.nextRef++}`;
    const framed = { ...frame, ref };
    return new Promise((resolve, reject) => {
      this.pending.set(ref, { frame: framed, resolve, reject });
      this.send(framed);
    });
  }
}
