// Everything the console knows about the socket protocol (docs/protocol.md §7-8) lives in
// this module: the frames it sends, the events it receives, its resume cursors and the
// reducers that apply events to the store. Components and actions never see a frame. When
// the staff protocol changes, this is the file to change. (The socket's life — heartbeat,
// reconnect, retried sends — is connection.js, shared with the widget.)
import { batch } from "@preact/signals";
import { Connection } from "@widget/connection.js";
import type { Place } from "@widget/files.js";
import type { Schemas } from "../api/client";
import * as store from "./store";
import type { Conversation, Message, Thread, Visibility } from "./store";

// --- The staff stream ----------------------------------------------------------------------
// The number staff follow a conversation by: messages are ordered, paged (before_seq),
// resumed (hello/resume cursors) and marked delivered/read by it, and a conversation's last
// value of it says what its snapshot already counts. Staff follow `staff_seq`, the dense
// sequence that also numbers staff-only items (notes, staff-only lines; docs/adr/0005).
const STREAM = { message: "staff_seq", conversation: "last_staff_seq" } as const;
export const cursorOf = (m: Message): number => m[STREAM.message];
const lastCursorOf = (c: Conversation): number => c[STREAM.conversation];

// --- Frames -------------------------------------------------------------------------------
type ErrorBody = Schemas["ErrorBody"];
type Ref = string;

export type ServerEvent =
  | { type: "ready"; principal: { kind: string; id: number; name: string; role?: string }; rejected_resume: number[] }
  | { type: "message.created"; message: Message }
  | { type: "message.ack"; ref: Ref; client_message_id: string; duplicate: boolean; message: Message }
  | { type: "receipt.ack"; ref: Ref }
  | { type: "conversation.updated"; conversation: Conversation }
  | { type: "queue.left"; conversation_id: number; state: "waiting" | "active" | "ended" }
  | { type: "queues.changed" }
  | { type: "receipt.updated"; conversation_id: number; side: "customer" | "agent"; delivered_seq: number; read_seq: number }
  | { type: "typing"; conversation_id: number; sender: "customer" | "agent"; is_typing: boolean; author?: { id: number; name: string } }
  | { type: "presence"; conversation_id: number; user: { id: number; name: string }; viewing: boolean; again: boolean }
  | { type: "session.resync" }
  | { type: "pong"; ref: Ref | null }
  | { type: "error"; error: ErrorBody; ref?: Ref };

type ClientFrame =
  | { type: "hello"; resume: Record<string, number> }
  | { type: "message.send"; conversation_id: number; body: string; client_message_id: string; visibility: Visibility;
      attachment_id?: number; location?: Place; ref?: Ref }
  | { type: "typing"; conversation_id: number; is_typing: boolean }
  | { type: "viewing"; conversation_id: number; is_viewing: boolean; again: boolean }
  | { type: "receipt"; conversation_id: number; delivered_seq?: number; read_seq?: number }
  | { type: "resume"; conversation_id: number; after_seq: number };

const TYPING_SHOWN_MS = 6_000; // a customer's typing signal fades if it is not repeated

export function newClientMessageId(): string {
  return crypto.randomUUID();
}

// --- The socket: hello with our resume cursors, heartbeat, reconnect, retried sends -------
const socket = new Connection<ClientFrame, ServerEvent>({
  hello: () => ({ type: "hello", resume: resumeCursors() }),
  onEvent: (event) => apply(event),
  onStatus: (status) => {
    store.connection.value = status;
  },
  onUnauthorized: () => location.assign("/console/login/"),
});
interface Hooks {
  ready: () => void; // after every (re)connection and resync: re-read the lists
  // Something for the agent's attention: a conversation newly waiting (message null), or a
  // customer's message in one they handle.
  arrived: (c: Conversation, message: Message | null) => void;
}
let hooks: Hooks = { ready: () => {}, arrived: () => {} };

export function connect(on: Hooks): void {
  hooks = on;
  store.connection.value = "connecting";
  socket.connect();
}

// --- Commands (frames) ---------------------------------------------------------------------
// visibility "public" writes to the customer; "staff" adds an internal note (a supervisor's is a whisper).
// `extra`: a file uploaded for it (its id), or a place (docs/protocol.md §16).
export async function sendMessage(conversationId: number, body: string, clientMessageId: string,
                                  visibility: Visibility,
                                  extra: { attachment_id?: number; location?: Place } = {}): Promise<Message> {
  const ack = await socket.request({ type: "message.send", conversation_id: conversationId, body,
                                     client_message_id: clientMessageId, visibility, ...extra });
  if (ack.type !== "message.ack") throw new Error(`Unexpected answer: ${ack.type}`);
  addMessages(conversationId, [ack.message]);
  return ack.message;
}

// --- Presence: who else has a conversation open ------------------------------------------
const PRESENCE_REPEAT_MS = 30_000; // we say we are here again this often...
const PRESENCE_LASTS_MS = 75_000; // ...and forget someone not heard of for this long
const STAFF_TYPING_SHOWN_MS = 6_000;
let viewed: number | null = null;
let presenceTimer: ReturnType<typeof setInterval> | undefined;

// The console shows this conversation now (null: none): the others who have it open hear it.
export function view(conversationId: number | null): void {
  if (viewed === conversationId) return;
  if (viewed !== null) socket.send({ type: "viewing", conversation_id: viewed, is_viewing: false, again: false });
  viewed = conversationId;
  clearInterval(presenceTimer);
  if (conversationId === null) return;
  socket.send({ type: "viewing", conversation_id: conversationId, is_viewing: true, again: false });
  presenceTimer = setInterval(() => {
    socket.send({ type: "viewing", conversation_id: conversationId, is_viewing: true, again: true });
  }, PRESENCE_REPEAT_MS);
}

function heard(conversationId: number, user: { id: number; name: string }, change: (p: store.Presence | undefined) => store.Presence | null): void {
  if (user.id === store.me.value.id) return; // our own other tabs are not "someone else"
  const next = new Map(store.presence.value);
  const people = new Map(next.get(conversationId) ?? []);
  const now = Date.now();
  for (const [id, p] of people) if (p.until < now) people.delete(id);
  const updated = change(people.get(user.id));
  if (updated) people.set(user.id, updated);
  else people.delete(user.id);
  next.set(conversationId, people);
  store.presence.value = next;
}

function presenceHeard(event: Extract<ServerEvent, { type: "presence" }>): void {
  heard(event.conversation_id, event.user, (p) => (event.viewing
    ? { name: event.user.name, until: Date.now() + PRESENCE_LASTS_MS, typingUntil: p?.typingUntil ?? 0 } : null));
  // A newcomer does not know we are here: answer once (an answer is not answered).
  if (event.viewing && !event.again && viewed === event.conversation_id && event.user.id !== store.me.value.id) {
    socket.send({ type: "viewing", conversation_id: viewed, is_viewing: true, again: true });
  }
}

function staffTyping(conversationId: number, author: { id: number; name: string }, on: boolean): void {
  heard(conversationId, author, (p) => ({ name: author.name, until: Math.max(p?.until ?? 0, Date.now() + PRESENCE_LASTS_MS),
                                         typingUntil: on ? Date.now() + STAFF_TYPING_SHOWN_MS : 0 }));
}

export function sendTyping(conversationId: number, isTyping: boolean): void {
  socket.send({ type: "typing", conversation_id: conversationId, is_typing: isTyping });
}

// Everything in the conversation is on the agent's screen: mark it read (once).
export function markRead(c: Conversation): void {
  const last = lastCursorOf(c);
  if (c.read_seq >= last) return;
  putConversation({ ...c, read_seq: last, unread_count: 0 });
  socket.send({ type: "receipt", conversation_id: c.id, read_seq: last });
}

// After loading a conversation's newest page over HTTP: the socket follows it from there and
// (re)sends everything after it (duplicates are dropped by id).
export function followFrom(conversationId: number, page: readonly Message[]): void {
  const newest = page.at(-1);
  socket.send({ type: "resume", conversation_id: conversationId, after_seq: newest ? cursorOf(newest) : 0 });
}

function resumeCursors(): Record<string, number> {
  const cursors: Record<string, number> = {};
  for (const [id, thread] of store.threads.value) {
    const last = lastCursor(thread);
    if (last !== null) cursors[String(id)] = last;
  }
  return cursors;
}

export function lastCursor(thread: Thread): number | null {
  const last = thread.order.at(-1);
  return last === undefined ? null : cursorOf(thread.byId.get(last)!);
}

export function firstCursor(thread: Thread): number | null {
  const first = thread.order[0];
  return first === undefined ? null : cursorOf(thread.byId.get(first)!);
}

// --- Reducers: events and HTTP results into the store --------------------------------------
// Adds messages to a conversation's thread, once each (by id), in stream order; drops the
// agent's drafts they confirm.
export function addMessages(conversationId: number, messages: readonly Message[], page?: { hasMore: boolean }): void {
  const thread = store.threads.value.get(conversationId) ?? store.EMPTY_THREAD;
  const byId = new Map(thread.byId);
  for (const m of messages) byId.set(m.id, m);
  const order = [...byId.values()].sort((a, b) => cursorOf(a) - cursorOf(b)).map((m) => m.id);
  const next: Thread = page
    ? { byId, order, hasMore: thread.loaded ? thread.hasMore && page.hasMore : page.hasMore, loaded: true }
    : { ...thread, byId, order };
  const confirmed = new Set(messages.filter((m) => m.sender === "agent").map((m) => m.client_message_id));
  batch(() => {
    store.threads.value = new Map(store.threads.value).set(conversationId, next);
    if (store.drafts.value.some((d) => confirmed.has(d.clientMessageId))) {
      store.drafts.value = store.drafts.value.filter((d) => !confirmed.has(d.clientMessageId));
    }
  });
}

// Loading an older page: `hasMore` is what that page says.
export function setHasMore(conversationId: number, hasMore: boolean): void {
  const thread = store.threads.value.get(conversationId);
  if (thread) store.threads.value = new Map(store.threads.value).set(conversationId, { ...thread, hasMore });
}

export function putConversation(c: Conversation): void {
  store.conversations.value = new Map(store.conversations.value).set(c.id, store.named(c));
}

// Conversations that just left one of our queues for another: not "new" when they reappear.
const movedAway = new Set<number>();

// No longer this member of staff's to see in a list (the open one stays on screen).
export function forgetConversation(id: number): void {
  if (store.selectedId.value === id || !store.conversations.value.has(id)) return;
  const next = new Map(store.conversations.value);
  next.delete(id);
  store.conversations.value = next;
}

function updateConversation(id: number, change: (c: Conversation) => Partial<Conversation>): void {
  const c = store.conversations.value.get(id);
  if (c) putConversation({ ...c, ...change(c) });
}

const typingTimers = new Map<number, ReturnType<typeof setTimeout>>();

function setTyping(conversationId: number, on: boolean): void {
  clearTimeout(typingTimers.get(conversationId));
  if (on) typingTimers.set(conversationId, setTimeout(() => setTyping(conversationId, false), TYPING_SHOWN_MS));
  if (store.typing.value.has(conversationId) === on) return;
  const next = new Set(store.typing.value);
  if (on) next.add(conversationId);
  else next.delete(conversationId);
  store.typing.value = next;
}

function messageCreated(m: Message): void {
  const known = store.threads.value.get(m.conversation_id)?.byId.has(m.id);
  addMessages(m.conversation_id, [m]);
  if (m.sender === "customer") setTyping(m.conversation_id, false);
  const c = store.conversations.value.get(m.conversation_id);
  if (!c || known || cursorOf(m) <= lastCursorOf(c)) return; // the snapshot already counts it
  const unread = m.sender === "customer" ? c.unread_count + 1 : c.unread_count;
  putConversation({ ...c, [STREAM.conversation]: cursorOf(m), last_message_at: m.created_at, unread_count: unread });
  // Delivered to this agent's console; read is decided by what is on screen (actions.ts).
  if (m.sender === "customer" && c.state === "active" && store.isMine(c)) {
    socket.send({ type: "receipt", conversation_id: c.id, delivered_seq: cursorOf(m) });
    hooks.arrived(c, m);
  }
}

function apply(event: ServerEvent): void {
  batch(() => {
    switch (event.type) {
      case "ready": {
        const again = viewed;
        viewed = null; // a new socket has joined nothing yet
        view(again);
        hooks.ready();
        break;
      }
      case "session.resync": // the server's bus was back: re-read state, ask again for what we follow
        for (const [id, after] of Object.entries(resumeCursors())) {
          socket.send({ type: "resume", conversation_id: Number(id), after_seq: after });
        }
        hooks.ready();
        break;
      case "message.created":
        messageCreated(event.message);
        break;
      case "conversation.updated": {
        const known = store.conversations.value.get(event.conversation.id);
        if (known && lastCursorOf(event.conversation) < lastCursorOf(known)) break; // stale snapshot (§7)
        putConversation(event.conversation);
        if (event.conversation.state === "waiting" && known?.state !== "waiting" && !movedAway.delete(event.conversation.id)) {
          hooks.arrived(event.conversation, null);
        }
        break;
      }
      case "queue.left":
        // Taken by a colleague (or by us: our own snapshot says so), ended, or moved to another
        // queue (still waiting: whoever serves that queue too gets its snapshot right after).
        // (Whole-line readers also get the new snapshot, on their line audience.)
        if (event.state === "waiting") {
          forgetConversation(event.conversation_id);
          movedAway.add(event.conversation_id); // its snapshot in another queue we serve is no news
        }
        else updateConversation(event.conversation_id, (c) => (c.state === "waiting" ? { state: event.state } : {}));
        break;
      case "queues.changed": // enabled on a queue or granted a channel, or no longer: read Pending again
        hooks.ready();
        break;
      case "receipt.updated":
        updateConversation(event.conversation_id, (c) =>
          event.side === "customer"
            ? { customer_delivered_seq: Math.max(c.customer_delivered_seq, event.delivered_seq),
                customer_read_seq: Math.max(c.customer_read_seq, event.read_seq) }
            : { read_seq: Math.max(c.read_seq, event.read_seq),
                unread_count: event.read_seq >= lastCursorOf(c) ? 0 : c.unread_count });
        break;
      case "typing":
        if (event.sender === "customer") setTyping(event.conversation_id, event.is_typing);
        else if (event.author) staffTyping(event.conversation_id, event.author, event.is_typing);
        break;
      case "presence":
        presenceHeard(event);
        break;
    }
  });
}
