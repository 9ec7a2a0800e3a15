// What the agent does: each intent calls the API or the socket (protocol.ts) and puts the
// result in the store. Components call these; they never fetch or send themselves.
import { batch, effect, signal } from "@preact/signals";
import type { Place } from "@widget/files.js";
import { api, ApiError, csrfToken, unwrap, type Schemas } from "../api/client";
import { _ } from "./i18n";
import * as attention from "./attention";
import * as protocol from "./protocol";
import * as store from "./store";
import type { Candidate, Conversation, Tab, Visibility } from "./store";

const PAGE_SIZE = 50;
const TYPING_REPEAT_MS = 2_500;

export const visible = signal(document.visibilityState === "visible");
export const composerError = signal("");
// The answer to the last action on the open conversation (the server's message), or to a list.
export const notice = signal("");

type List = "waiting" | "active" | "ended" | "line";

async function list(which: List): Promise<Conversation[]> {
  const query = which === "line" ? { state: "active" as const, scope: "line" }
    : which === "ended" ? { state: which, q: store.endedQuery.value.trim() || undefined } : { state: which };
  return unwrap(api.GET("/api/staff/conversations", { params: { query } }));
}

// The lists are re-read after every (re)connection and resync: unnumbered events (snapshots,
// queue.left) may have been missed meanwhile. Who reads what: the queue for everyone, the
// conversations they handle for agents and supervisors, the whole line for the roles that see it.
export async function loadLists(): Promise<void> {
  const wanted: List[] = ["waiting"];
  if (store.handles.value) wanted.push("active");
  if (store.handles.value && store.tab.value === "ended") wanted.push("ended");
  if (store.seesWholeLine.value) wanted.push("line");
  const results = await Promise.all(wanted.map(list));
  const next = new Map<number, Conversation>();
  const keep = store.selected.value;
  if (keep) next.set(keep.id, keep); // the open conversation stays on screen whatever happened to it
  if (!wanted.includes("ended")) for (const c of store.lists.value.ended) next.set(c.id, c);
  for (const c of results.flat()) next.set(c.id, store.named(c));
  batch(() => {
    store.conversations.value = next;
    store.listsLoaded.value = true;
  });
}

// The Ended list shows at most the 100 most recent: a search asks the server for older ones too.
export async function searchEnded(text: string): Promise<void> {
  store.endedQuery.value = text;
  const found = await list("ended");
  const next = new Map(store.conversations.value);
  for (const c of found) next.set(c.id, store.named(c));
  store.conversations.value = next;
}

export function selectTab(tab: Tab): void {
  store.tab.value = tab;
  if (tab === "ended") loadLists().catch(showError);
}

// The open conversation survives a reload of the page (this tab only).
const SELECTED_KEY = "branchline.selected";

export async function select(id: number): Promise<void> {
  sessionStorage.setItem(SELECTED_KEY, String(id));
  batch(() => {
    composerError.value = "";
    notice.value = "";
    store.selectedId.value = id;
    store.module.value = "conversations";
  });
  protocol.view(id);
  if (!store.threads.value.get(id)?.loaded) {
    const page = await unwrap(api.GET("/api/staff/conversations/{conversation_id}/messages", {
      params: { path: { conversation_id: id }, query: { limit: PAGE_SIZE } },
    }));
    protocol.addMessages(id, page.messages, { hasMore: page.has_more });
    protocol.followFrom(id, page.messages);
  }
}

export async function loadEarlier(id: number): Promise<void> {
  const thread = store.threads.value.get(id);
  const before = thread && protocol.firstCursor(thread);
  if (!before) return;
  const page = await unwrap(api.GET("/api/staff/conversations/{conversation_id}/messages", {
    params: { path: { conversation_id: id }, query: { limit: PAGE_SIZE, before_seq: before } },
  }));
  batch(() => {
    protocol.addMessages(id, page.messages);
    protocol.setHasMore(id, page.has_more);
  });
}

// The customer's earlier conversations (and this one), newest page first; each call reads
// the next older page. Kept per customer.
export async function loadHistory(c: Conversation): Promise<void> {
  const known = store.histories.value.get(c.customer.id) ?? store.EMPTY_HISTORY;
  const before = known.loaded ? known.messages[0]?.id : undefined;
  if (known.loaded && !known.hasMore) return;
  const page = await unwrap(api.GET("/api/staff/conversations/{conversation_id}/history", {
    params: { path: { conversation_id: c.id }, query: { limit: PAGE_SIZE, before_id: before } },
  }));
  const fresh = store.histories.value.get(c.customer.id) ?? store.EMPTY_HISTORY;
  const seen = new Set(fresh.messages.map((m) => m.id));
  const messages = [...page.messages.filter((m) => !seen.has(m.id)), ...fresh.messages].sort((a, b) => a.id - b.id);
  store.histories.value = new Map(store.histories.value).set(c.customer.id, {
    messages, hasMore: page.has_more, loaded: true,
  });
}

export function forgetHistory(c: Conversation): void {
  const next = new Map(store.histories.value);
  next.delete(c.customer.id);
  store.histories.value = next;
}

// --- Changes of who handles a conversation: each answers the conversation as we now see it.
type Change = "accept" | "end" | "release" | "join" | "leave";

async function change(what: Change, id: number): Promise<Conversation | null> {
  notice.value = "";
  try {
    const c = await unwrap(api.POST(`/api/staff/conversations/{conversation_id}/${what}`, {
      params: { path: { conversation_id: id } },
    }));
    protocol.putConversation(c);
    return c;
  } catch (error) {
    showError(error);
    if (error instanceof ApiError && (error.code === "already_taken" || error.code === "conversation_ended")) {
      await loadLists();
    }
    return null;
  }
}

export async function accept(id: number): Promise<void> {
  if (await change("accept", id)) store.tab.value = "active";
}

export const end = (id: number) => change("end", id);
export const release = (id: number) => change("release", id);
export const join = (id: number) => change("join", id);
export const leave = (id: number) => change("leave", id);

export async function transferCandidates(id: number): Promise<Candidate[]> {
  return unwrap(api.GET("/api/staff/conversations/{conversation_id}/transfer-candidates", {
    params: { path: { conversation_id: id } },
  }));
}

// Hands the conversation to `to`, with a note for them: it travels on the staff-only
// "transferred" line (its `note`), which the receiver reads above everything after it.
export async function transfer(id: number, to: Candidate, note: string): Promise<void> {
  const text = note.trim();
  protocol.putConversation(await unwrap(api.POST("/api/staff/conversations/{conversation_id}/transfer", {
    params: { path: { conversation_id: id } }, body: { to_user_id: to.id, note: text },
  })));
}

// With `file`: uploaded first (scanned, checked: docs/protocol.md §16), then sent by its id;
// with `place`: where the agent is. The draft shows at once and stays, marked, if it fails.
export async function send(id: number, body: string, visibility: Visibility,
                           { file, place }: { file?: File; place?: Place } = {}): Promise<void> {
  const shown = file ? `${file.name}${body ? `\n${body}` : ""}` : body;
  const draft: store.Draft = { clientMessageId: protocol.newClientMessageId(), conversationId: id, text: shown,
                               visibility, createdAt: new Date().toISOString(), failed: false };
  composerError.value = "";
  store.drafts.value = [...store.drafts.value, draft];
  if (visibility === "public") lastTypingSent = 0;
  try {
    const extra = file ? { attachment_id: await uploadFile(id, file) } : place ? { location: place } : {};
    await protocol.sendMessage(id, body, draft.clientMessageId, visibility, extra);
  } catch (error) {
    store.drafts.value = store.drafts.value.map((d) => (d === draft ? { ...d, failed: true } : d));
    composerError.value = messageOf(error);
    throw error;
  }
}

let lastTypingSent = 0;

// POST /api/staff/conversations/{id}/files (multipart): the uploaded file's id.
async function uploadFile(id: number, file: File): Promise<number> {
  const form = new FormData();
  form.append("file", file);
  const response = await fetch(`/api/staff/conversations/${id}/files`, {
    method: "POST", body: form, credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(data?.error?.code ?? `http_${response.status}`, data?.error?.message ?? response.statusText,
                       response.status);
  }
  return data.id as number;
}

// Where the agent is, from the browser (it asks them first), to send to the customer.
export function currentPlace(): Promise<Place> {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) {
      reject(new Error(_("This browser cannot tell where you are.")));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) => resolve({ latitude: Number(position.coords.latitude.toFixed(6)),
                              longitude: Number(position.coords.longitude.toFixed(6)) }),
      () => reject(new Error(_("Your location is not available: allow it in your browser to share it."))),
      { timeout: 15_000, maximumAge: 60_000 });
  });
}

// The customer sees "typing…": only for a reply, never while a note is written.
export function typed(id: number): void {
  const c = store.conversations.value.get(id);
  const now = Date.now();
  if (!c || c.state !== "active" || now - lastTypingSent < TYPING_REPEAT_MS) return;
  lastTypingSent = now;
  protocol.sendTyping(id, true);
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function showError(error: unknown): void {
  notice.value = messageOf(error) || _("Something went wrong. Try again.");
}

// Read = shown: the open conversation, on a visible page, once its history is on screen.
// Only the agent handling it: the customer's "seen" is the furthest any member of staff read,
// and a supervisor who joined silently stays silent.
effect(() => {
  const c = store.selected.value;
  if (c && visible.value && c.state === "active" && store.isMine(c) && store.selectedThread.value.loaded) protocol.markRead(c);
});

// The page title counts unread customer messages, for an agent working in another tab.
effect(() => {
  const unread = store.unreadTotal.value;
  document.title = (unread ? `(${unread}) ` : "") + _("Branchline console");
});

document.addEventListener("visibilitychange", () => {
  visible.value = document.visibilityState === "visible";
});

export function start(): void {
  setInterval(() => { store.clock.value = Date.now(); }, 30_000);
  protocol.connect({
    arrived: (c, message) => {
      if (!store.handles.value) return; // who only reads is not called to act
      const open = (id: number) => { void select(id).catch(showError); };
      if (message) attention.customerWrote(c, message.text, open);
      else attention.newConversation(c, open);
    },
    ready: () => {
      void loadLists().then(reopen).catch(showError);
      if (!store.caseStatuses.value.length) void loadCaseOptions().catch(showError);
      if (store.handles.value) void loadQueues().catch(showError);
      if (store.handles.value && !store.quickAnswers.value.length) void loadQuickAnswers().catch(showError);
    },
  });
}

// After a reload: the conversation that was open, if it still may be seen.
async function reopen(): Promise<void> {
  const saved = Number(sessionStorage.getItem(SELECTED_KEY));
  if (!saved || store.selectedId.value !== null) return;
  try {
    if (!store.conversations.value.has(saved)) {
      protocol.putConversation(await unwrap(api.GET("/api/staff/conversations/{conversation_id}", {
        params: { path: { conversation_id: saved } },
      })));
    }
    await select(saved);
  } catch {
    sessionStorage.removeItem(SELECTED_KEY); // gone, or no longer ours to see
  }
}

// --- Queues (docs/protocol.md §12) ---------------------------------------------------------

export async function loadQueues(): Promise<void> {
  store.queues.value = await unwrap(api.GET("/api/staff/queues"));
}

// Out of this member of staff's sight once it waits in a queue they do not serve (an agent's
// own tabs): it leaves their lists; the answer still shows them what they did.
function putOrForget(c: Conversation): void {
  const served = store.seesWholeLine.value || store.queues.value.some((q) => q.id === c.queue.id && q.serving);
  protocol.putConversation(c);
  if (c.state === "waiting" && !served) {
    store.selectedId.value = null;
    protocol.view(null);
    protocol.forgetConversation(c.id);
  }
}

export async function moveToQueue(id: number, queueId: number, note: string): Promise<void> {
  putOrForget(await unwrap(api.POST("/api/staff/conversations/{conversation_id}/queue", {
    params: { path: { conversation_id: id } }, body: { queue_id: queueId, note: note.trim() },
  })));
}

export type Rejection = "duplicate" | "spam" | "abuse" | "other";

export async function reject(id: number, rejection: Rejection, note: string): Promise<void> {
  protocol.putConversation(await unwrap(api.POST("/api/staff/conversations/{conversation_id}/reject", {
    params: { path: { conversation_id: id } }, body: { rejection, note: note.trim() },
  })));
}

// --- Cases (docs/protocol.md §11) --------------------------------------------------------

// The line's statuses and topics: the case header's choices and the Cases module's filters.
export async function loadCaseOptions(): Promise<void> {
  const [statuses, topics, handlers, tags] = await Promise.all([
    unwrap(api.GET("/api/staff/case-statuses")), unwrap(api.GET("/api/staff/topics")),
    store.seesWholeLine.value ? unwrap(api.GET("/api/staff/line-handlers")) : Promise.resolve([]),
    unwrap(api.GET("/api/staff/tags")),
  ]);
  batch(() => {
    store.caseStatuses.value = statuses;
    store.topics.value = topics;
    store.lineHandlers.value = handlers;
    store.tags.value = tags;
  });
}

// The conversation's own `conversation.updated` event brings the new status to every
// console showing it; the open case and its row in the table are updated from the answer.
export async function setCaseStatus(caseId: number, statusId: number): Promise<void> {
  notice.value = "";
  try {
    const row = await unwrap(api.POST("/api/staff/cases/{case_id}/status", {
      params: { path: { case_id: caseId } }, body: { status_id: statusId },
    }));
    putCaseRow(row);
    const open = store.openCase.value;
    if (open?.detail.id === caseId) await openCaseById(caseId);
  } catch (error) {
    showError(error);
  }
}

export async function setTopic(conversationId: number, topicId: number): Promise<void> {
  notice.value = "";
  try {
    protocol.putConversation(await unwrap(api.POST("/api/staff/conversations/{conversation_id}/topic", {
      params: { path: { conversation_id: conversationId } }, body: { topic_id: topicId },
    })));
  } catch (error) {
    showError(error);
  }
}

// Outbound from Ended: the new conversation is ours, in progress, and opens at once.
export async function continueConversation(conversationId: number, topicId: number, body: string): Promise<void> {
  const text = body.trim();
  const c = await unwrap(api.POST("/api/staff/conversations/{conversation_id}/continue", {
    params: { path: { conversation_id: conversationId } },
    body: { topic_id: topicId, body: text || null, client_message_id: text ? protocol.newClientMessageId() : null },
  }));
  protocol.putConversation(c);
  store.tab.value = "active";
  await select(c.id);
}

export function showModule(which: store.Module): void {
  store.module.value = which;
  protocol.view(which === "conversations" ? store.selectedId.value : null);
  if (which === "cases" && !store.caseList.value.loaded) loadCases(true).catch(showError);
  if (which === "contacts" && !store.contactList.value.loaded) loadContacts(true).catch(showError);
}

// --- Tags (docs/protocol.md §15) -------------------------------------------------------------

// Puts the tag named `name` on the conversation; one not on the line's list is added to it
// first, for those who may (supervisors, administrators).
export async function tagByName(id: number, name: string): Promise<void> {
  const wanted = name.trim().toLocaleLowerCase();
  const find = () => store.tags.value.find((t) => t.name.toLocaleLowerCase() === wanted);
  if (!find()) store.tags.value = await unwrap(api.GET("/api/staff/tags")); // added by someone meanwhile?
  let tag = find();
  if (!tag) {
    if (!store.createsTags.value) throw new Error(_("There is no such tag. Ask a supervisor to add it."));
    tag = await unwrap(api.POST("/api/staff/tags", { body: { name } }));
    store.tags.value = [...store.tags.value, tag].sort((a, b) => a.name.localeCompare(b.name));
  }
  protocol.putConversation(await unwrap(api.POST("/api/staff/conversations/{conversation_id}/tags", {
    params: { path: { conversation_id: id } }, body: { tag_id: tag.id },
  })));
}

export async function untag(id: number, tagId: number): Promise<void> {
  protocol.putConversation(await unwrap(api.DELETE("/api/staff/conversations/{conversation_id}/tags/{tag_id}", {
    params: { path: { conversation_id: id, tag_id: tagId } },
  })));
}

// --- Quick answers (docs/protocol.md §14) --------------------------------------------------

export async function loadQuickAnswers(): Promise<void> {
  store.quickAnswers.value = await unwrap(api.GET("/api/staff/quick-answers"));
}

export function insertIntoComposer(text: string): void {
  store.composerInsert.value = text;
}

// --- Contacts (docs/protocol.md §13) -------------------------------------------------------

export async function loadContacts(fresh: boolean): Promise<void> {
  const filters = store.contactFilters.value;
  const before = fresh ? undefined : store.contactList.value.nextBeforeId ?? undefined;
  const page = await unwrap(api.GET("/api/staff/contacts", {
    params: { query: { q: filters.q || undefined, barred: filters.barred, before_id: before, limit: PAGE_SIZE } },
  }));
  store.contactList.value = {
    contacts: fresh ? page.contacts : [...store.contactList.value.contacts, ...page.contacts],
    nextBeforeId: page.next_before_id, loaded: true,
  };
}

// The customer's messages are dropped from now on; their open conversation ends.
export async function bar(id: number, reason: string): Promise<void> {
  protocol.putConversation(await unwrap(api.POST("/api/staff/conversations/{conversation_id}/bar", {
    params: { path: { conversation_id: id } }, body: { reason: reason.trim() },
  })));
  store.contactList.value = { ...store.contactList.value, loaded: false }; // read again when next shown
}

export async function unbar(customerId: number): Promise<void> {
  const contact = await unwrap(api.POST("/api/staff/contacts/{customer_id}/unbar", {
    params: { path: { customer_id: customerId } },
  }));
  store.contactList.value = {
    ...store.contactList.value,
    contacts: store.contactList.value.contacts.map((c) => (c.id === contact.id ? contact : c)),
  };
}

// One more page of the Cases module's table (`fresh`: from the newest, after a filter change).
export async function loadCases(fresh: boolean): Promise<void> {
  const filters = store.caseFilters.value;
  const before = fresh ? undefined : store.caseList.value.nextBeforeId ?? undefined;
  const page = await unwrap(api.GET("/api/staff/cases", {
    params: { query: { ...filters, q: filters.q || undefined, before_id: before, limit: PAGE_SIZE } },
  }));
  store.caseList.value = {
    cases: fresh ? page.cases : [...store.caseList.value.cases, ...page.cases],
    nextBeforeId: page.next_before_id, loaded: true,
  };
}

function putCaseRow(row: store.CaseRow): void {
  const list = store.caseList.value;
  if (list.cases.some((c) => c.id === row.id)) {
    store.caseList.value = { ...list, cases: list.cases.map((c) => (c.id === row.id ? row : c)) };
  }
}

export async function openCaseById(caseId: number): Promise<void> {
  const [detail, page] = await Promise.all([
    unwrap(api.GET("/api/staff/cases/{case_id}", { params: { path: { case_id: caseId } } })),
    unwrap(api.GET("/api/staff/cases/{case_id}/timeline", { params: { path: { case_id: caseId }, query: { limit: PAGE_SIZE } } })),
  ]);
  store.openCase.value = { detail, items: page.items, hasMore: page.has_more };
}

export async function loadMoreTimeline(): Promise<void> {
  const open = store.openCase.value;
  if (!open?.hasMore) return;
  const page = await unwrap(api.GET("/api/staff/cases/{case_id}/timeline", {
    params: { path: { case_id: open.detail.id }, query: { limit: PAGE_SIZE, after_id: open.items.at(-1)?.id } },
  }));
  store.openCase.value = { ...open, items: [...open.items, ...page.items], hasMore: page.has_more };
}

// --- Recognizing the customer (docs/protocol.md §17) ----------------------------------------

export type ContactCard = Schemas["ContactCard"];
export type NewContact = Schemas["NewContactIn"];

export async function searchContacts(q: string): Promise<ContactCard[]> {
  return unwrap(api.GET("/api/staff/contacts/search", { params: { query: { q } } }));
}

export async function relateContact(id: number, contactId: number): Promise<void> {
  protocol.putConversation(await unwrap(api.POST("/api/staff/conversations/{conversation_id}/contact", {
    params: { path: { conversation_id: id } }, body: { contact_id: contactId },
  })));
}

export async function createContact(id: number, contact: NewContact): Promise<void> {
  protocol.putConversation(await unwrap(api.POST("/api/staff/conversations/{conversation_id}/contact/new", {
    params: { path: { conversation_id: id } }, body: contact,
  })));
}
