// The audit trail's state and reads: the filters, the records read so far (newest first,
// paged back by seq) and the retention. Components call these; they never fetch themselves.
import { batch, signal } from "@preact/signals";
import { api, unwrap, type Schemas } from "../api/client";

export type AuditRecord = Schemas["AuditRecordOut"];
export type Retention = Schemas["RetentionOut"];

export interface Filters {
  event: string;
  actor_kind: string;
  actor_id: string;
  subject_type: string;
  subject_id: string;
  since: string; // datetime-local, the reader's time zone
  until: string;
}

export const NO_FILTERS: Filters = { event: "", actor_kind: "", actor_id: "", subject_type: "", subject_id: "",
                                     since: "", until: "" };
const PAGE = 50;

export const filters = signal<Filters>(fromUrl());
export const records = signal<AuditRecord[]>([]);
export const hasMore = signal(false);
export const loading = signal(false);
export const problem = signal("");
export const retention = signal<Retention | null>(null);

// The filters live in the address too: a reader can bookmark or pass on a view of the trail.
function fromUrl(): Filters {
  const query = new URLSearchParams(location.search);
  return Object.fromEntries(Object.keys(NO_FILTERS).map((k) => [k, query.get(k) ?? ""])) as unknown as Filters;
}

function toUrl(f: Filters) {
  const query = new URLSearchParams(Object.entries(f).filter(([, v]) => v !== ""));
  history.replaceState(null, "", query.size ? `?${query}` : location.pathname);
}

const number = (text: string) => (text.trim() === "" ? undefined : Number(text));
const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);

function query(f: Filters, beforeSeq?: number) {
  return {
    event: f.event.trim() || undefined, actor_kind: f.actor_kind || undefined, actor_id: number(f.actor_id),
    subject_type: f.subject_type.trim() || undefined, subject_id: number(f.subject_id),
    since: instant(f.since), until: instant(f.until), before_seq: beforeSeq, limit: PAGE,
  };
}

let latest = 0; // the newest read asked for: an older one answering late is dropped

// A new search (reset) or the next, older page.
export async function load(reset: boolean): Promise<void> {
  const f = filters.value;
  if (reset) toUrl(f);
  const before = reset ? undefined : records.value.at(-1)?.seq;
  const asked = ++latest;
  loading.value = true;
  problem.value = "";
  try {
    const page = await unwrap(api.GET("/api/staff/audit-records", { params: { query: query(f, before) } }));
    if (asked !== latest) return;
    batch(() => {
      records.value = reset ? page.records : [...records.value, ...page.records];
      hasMore.value = page.has_more;
    });
  } catch (error) {
    if (asked === latest) problem.value = (error as Error).message;
  } finally {
    if (asked === latest) loading.value = false;
  }
}

export async function loadRetention(): Promise<void> {
  retention.value = await unwrap(api.GET("/api/staff/audit-retention"));
}

export async function setRetention(days: number | null): Promise<void> {
  retention.value = await unwrap(api.PUT("/api/admin/audit-retention", { body: { retention_days: days } }));
}
