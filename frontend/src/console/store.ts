// The console's one client store: signals, fed by the socket (protocol.ts) and by the HTTP
// calls of actions.ts. Components only read it; nothing else keeps console state. This
// module knows no protocol detail: how messages are ordered is decided by protocol.ts.
import { computed, signal } from "@preact/signals";
import type { paths } from "../api/schema";
import { _ } from "./i18n";

// Named after what the staff endpoints answer, so a regenerated schema flows through.
type Json<T> = T extends { responses: { 200: { content: { "application/json": infer B } } } } ? B : never;
export type Conversation = Json<paths["/api/staff/conversations/{conversation_id}"]["get"]>;
export type Message = Json<paths["/api/staff/conversations/{conversation_id}/messages"]["get"]>["messages"][number];
export type Candidate = Json<paths["/api/staff/conversations/{conversation_id}/transfer-candidates"]["get"]>[number];
export type CaseRow = Json<paths["/api/staff/cases"]["get"]>["cases"][number];
export type CaseDetail = Json<paths["/api/staff/cases/{case_id}"]["get"]>;
export type CaseStatusOption = Json<paths["/api/staff/case-statuses"]["get"]>[number];
export type TopicOption = Json<paths["/api/staff/topics"]["get"]>[number];
export type QueueOption = Json<paths["/api/staff/queues"]["get"]>[number];
export type Contact = Json<paths["/api/staff/contacts"]["get"]>["contacts"][number];
export type QuickAnswer = Json<paths["/api/staff/quick-answers"]["get"]>[number];
export type TagOption = Json<paths["/api/staff/tags"]["get"]>[number];
export type Tab = "waiting" | "active" | "ended" | "line";
// The console's two modules (seed 001: Cases sits below Conversations in the first column).
export type Module = "conversations" | "cases" | "contacts";
export type Visibility = "public" | "staff";
export type Connection = "connecting" | "online" | "offline";

// An agent message or note typed here that the server has not stored yet.
export interface Draft {
  clientMessageId: string;
  conversationId: number;
  text: string;
  visibility: Visibility;
  createdAt: string;
  failed: boolean;
}

// One conversation's messages: by id, and their ids in stream order (kept by protocol.ts).
export interface Thread {
  byId: ReadonlyMap<number, Message>;
  order: readonly number[];
  hasMore: boolean; // older messages exist on the server
  loaded: boolean; // the newest page has been read over HTTP
}

// A customer's whole history as staff read it (every conversation, notes included), paged
// back by message id; kept per customer, so every conversation of theirs shares it.
export interface History {
  messages: readonly Message[]; // oldest first
  hasMore: boolean;
  loaded: boolean;
}

export interface Me {
  id: number;
  name: string;
  role: string;
}

// What a role may do (docs/protocol.md §2): agents handle their own conversations;
// supervisors, administrators and auditors see the whole line of business; administrators
// and auditors only read.
const WHOLE_LINE = new Set(["supervisor", "admin", "auditor"]);
const HANDLING = new Set(["agent", "supervisor"]);

export const me = signal<Me>({ id: 0, name: "", role: "" });
export const connection = signal<Connection>("connecting");
export const conversations = signal<ReadonlyMap<number, Conversation>>(new Map());
export const threads = signal<ReadonlyMap<number, Thread>>(new Map());
export const drafts = signal<readonly Draft[]>([]);

// A guest is "Customer" in the reader's language: socket events name them in the server's
// (docs/protocol.md §18), HTTP answers in the reader's.
export function named(c: Conversation): Conversation {
  if (c.customer.authenticated || c.customer.contact) return c;
  return { ...c, customer: { ...c.customer, name: _("Customer") } };
}
// Conversation id -> the customer is typing (cleared by a timeout, a message or is_typing false).
export const typing = signal<ReadonlySet<number>>(new Set());
export const listsLoaded = signal(false); // the first list load has answered
export const tab = signal<Tab>("active");
export const selectedId = signal<number | null>(null);
// Who else has each conversation open, and whether they type (docs/protocol.md §7, presence):
// conversation id -> user id -> what we heard; an entry lapses unless repeated.
export interface Presence { name: string; until: number; typingUntil: number }
export const presence = signal<ReadonlyMap<number, ReadonlyMap<number, Presence>>>(new Map());
// The time now, moved on every 30 s (actions.start): what counts down re-renders with it.
export const clock = signal(Date.now());
// Ended: only signed-in customers whose name holds this (finding whom to write to again).
export const endedQuery = signal("");
// Customer id -> what has been read of their history.
export const histories = signal<ReadonlyMap<number, History>>(new Map());

// --- Cases (docs/protocol.md §11)
export const module = signal<Module>("conversations");
// The line's case statuses and active topics, read once after sign-in.
export const caseStatuses = signal<readonly CaseStatusOption[]>([]);
export const topics = signal<readonly TopicOption[]>([]);
// The line's queues, and which this member of staff serves (docs/protocol.md §12).
export const queues = signal<readonly QueueOption[]>([]);

// The line's tags (docs/protocol.md §15); supervisors and administrators add to them inline.
export const tags = signal<readonly TagOption[]>([]);
export const createsTags = computed(() => me.value.role === "supervisor" || me.value.role === "admin");
// The line's quick answers (docs/protocol.md §14), read once after sign-in.
export const quickAnswers = signal<readonly QuickAnswer[]>([]);
// Text the composer takes in at its caret (a quick answer inserted), then clears.
export const composerInsert = signal<string | null>(null);

// --- Contacts (docs/protocol.md §13)
export const contactList = signal<{ contacts: readonly Contact[]; nextBeforeId: number | null; loaded: boolean }>(
  { contacts: [], nextBeforeId: null, loaded: false });
export const contactFilters = signal<{ q?: string; barred?: boolean }>({});
// Supervisors and administrators lift bars.
export const managesContacts = computed(() => me.value.role === "supervisor" || me.value.role === "admin");
// Who handles cases in the line: the agent filter of whole-line readers.
export const lineHandlers = signal<readonly { id: number; name: string }[]>([]);
export interface CaseFilters {
  status_id?: number;
  case_type_id?: number;
  agent_id?: number;
  created_from?: string;
  created_to?: string;
  q?: string;
  tag_id?: number;
}
export const caseFilters = signal<CaseFilters>({});
// The Cases module's table: the pages read so far, newest first, and where the next begins.
export const caseList = signal<{ cases: readonly CaseRow[]; nextBeforeId: number | null; loaded: boolean }>(
  { cases: [], nextBeforeId: null, loaded: false });
// The case open in the Cases module, with its timeline read so far (oldest first).
export interface OpenCase {
  detail: CaseDetail;
  items: readonly Message[];
  hasMore: boolean;
}
export const openCase = signal<OpenCase | null>(null);

export const EMPTY_THREAD: Thread = { byId: new Map(), order: [], hasMore: false, loaded: false };
export const EMPTY_HISTORY: History = { messages: [], hasMore: false, loaded: false };

export const seesWholeLine = computed(() => WHOLE_LINE.has(me.value.role));
export const handles = computed(() => HANDLING.has(me.value.role)); // else read only
export const isSupervisor = computed(() => me.value.role === "supervisor");
// Case statuses: the agents who handled a case, supervisors and administrators (auditors read).
export const changesCases = computed(() => me.value.role !== "auditor");
// The case types of the line, from its topics (for the Cases module's filter).
export const caseTypes = computed(() => {
  const byId = new Map<number, string>();
  for (const t of topics.value) byId.set(t.case_type.id, t.case_type.name);
  return [...byId].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
});

// Which of this member of staff's own tabs a conversation belongs in: the queue while
// waiting, then the ones they handle or (supervisors) follow. The whole line is another list.
export function tabOf(c: Conversation, userId: number): Tab | null {
  if (c.state === "waiting") return "waiting";
  if (c.state === "active") return c.assigned_agent?.id === userId || c.watchers.includes(userId) ? "active" : null;
  return c.state === "ended" && c.assigned_agent?.id === userId ? "ended" : null;
}

const byOldest = (a: Conversation, b: Conversation) => a.created_at.localeCompare(b.created_at);
const byRecent = (a: Conversation, b: Conversation) => b.last_message_at.localeCompare(a.last_message_at);

// The three lists: the queue oldest first, the agent's own by most recent activity.
export const lists = computed(() => {
  const result: Record<Tab, Conversation[]> = { waiting: [], active: [], ended: [], line: [] };
  for (const c of conversations.value.values()) {
    const t = tabOf(c, me.value.id);
    if (t) result[t].push(c);
    // Every conversation a whole-line reader holds is of their line of business.
    if (seesWholeLine.value && c.state === "active") result.line.push(c);
  }
  result.waiting.sort(byOldest);
  result.active.sort(byRecent);
  const wanted = endedQuery.value.trim().toLocaleLowerCase();
  if (wanted) {
    result.ended = result.ended.filter((c) => c.customer.authenticated && c.customer.name.toLocaleLowerCase().includes(wanted));
  }
  result.ended.sort(byRecent);
  result.line.sort(byRecent);
  return result;
});

// Unread counts are kept for the conversations you handle (you are the one who reads them).
export const unreadTotal = computed(() => lists.value.active.reduce((n, c) => n + (isMine(c) ? c.unread_count : 0), 0));
export const selected = computed(() => (selectedId.value === null ? null : conversations.value.get(selectedId.value) ?? null));
export const selectedThread = computed(() => (selectedId.value === null ? EMPTY_THREAD : threads.value.get(selectedId.value) ?? EMPTY_THREAD));
export const selectedDrafts = computed(() => drafts.value.filter((d) => d.conversationId === selectedId.value));
export const selectedTyping = computed(() => selectedId.value !== null && typing.value.has(selectedId.value));

export const isMine = (c: Conversation | null) => Boolean(c && c.assigned_agent?.id === me.value.id);
// Following live: the assigned agent and joined supervisors (their staff audience gets its events).
export const isFollowing = (c: Conversation | null) => Boolean(c && c.watchers.includes(me.value.id));
