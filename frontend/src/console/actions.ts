// What the agent does: each intent calls the API or the socket (protocol.ts) and puts the
// result in the store. Components call these; they never fetch or send themselves.
import { batch, effect, signal } from "@preact/signals";
import { api, ApiError, unwrap } from "../api/client";
import { _ } from "./i18n";
import * as protocol from "./protocol";
import * as store from "./store";
import type { Conversation, Tab } from "./store";

const PAGE_SIZE = 50;
const TYPING_REPEAT_MS = 2_500;

export const visible = signal(document.visibilityState === "visible");
export const composerError = signal("");

async function list(state: Tab): Promise<Conversation[]> {
  return unwrap(api.GET("/api/staff/conversations", { params: { query: { state } } }));
}

// The lists are re-read after every (re)connection and resync: unnumbered events (snapshots,
// queue.left) may have been missed meanwhile.
export async function loadLists(): Promise<void> {
  const wanted: Tab[] = store.tab.value === "ended" ? ["active", "waiting", "ended"] : ["active", "waiting"];
  const results = await Promise.all(wanted.map(list));
  const next = new Map<number, Conversation>();
  const keep = store.selected.value;
  if (keep) next.set(keep.id, keep); // the open conversation stays on screen whatever happened to it
  if (!wanted.includes("ended")) for (const c of store.lists.value.ended) next.set(c.id, c);
  for (const c of results.flat()) next.set(c.id, c);
  batch(() => {
    store.conversations.value = next;
    store.listsLoaded.value = true;
  });
}

export function selectTab(tab: Tab): void {
  store.tab.value = tab;
  if (tab === "ended") loadLists().catch(showError);
}

export async function select(id: number): Promise<void> {
  composerError.value = "";
  store.selectedId.value = id;
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

export async function accept(id: number): Promise<void> {
  try {
    const c = await unwrap(api.POST("/api/staff/conversations/{conversation_id}/accept", { params: { path: { conversation_id: id } } }));
    batch(() => {
      protocol.putConversation(c);
      store.tab.value = "active";
    });
  } catch (error) {
    if (error instanceof ApiError && (error.code === "already_taken" || error.code === "conversation_ended")) {
      await loadLists();
    }
    showError(error);
  }
}

export async function end(id: number): Promise<void> {
  try {
    protocol.putConversation(await unwrap(api.POST("/api/staff/conversations/{conversation_id}/end", {
      params: { path: { conversation_id: id } },
    })));
  } catch (error) {
    showError(error);
  }
}

export async function send(id: number, body: string): Promise<void> {
  const draft: store.Draft = { clientMessageId: protocol.newClientMessageId(), conversationId: id, text: body,
                               createdAt: new Date().toISOString(), failed: false };
  composerError.value = "";
  store.drafts.value = [...store.drafts.value, draft];
  lastTypingSent = 0;
  try {
    await protocol.sendMessage(id, body, draft.clientMessageId);
  } catch (error) {
    store.drafts.value = store.drafts.value.map((d) => (d === draft ? { ...d, failed: true } : d));
    showError(error);
    throw error;
  }
}

let lastTypingSent = 0;

export function typed(id: number): void {
  const c = store.conversations.value.get(id);
  const now = Date.now();
  if (!c || c.state !== "active" || now - lastTypingSent < TYPING_REPEAT_MS) return;
  lastTypingSent = now;
  protocol.sendTyping(id, true);
}

export function showError(error: unknown): void {
  composerError.value = error instanceof Error ? error.message : String(error);
}


// Read = shown: the open conversation, on a visible page, once its history is on screen.
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
  protocol.connect(() => void loadLists().catch(showError));
}
