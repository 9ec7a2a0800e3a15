// The audit trail as auditors and administrators read it: filters (kept in the address),
// the records newest first with "Show older records", and how long the trail is kept.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { _, format, N_, locale } from "../console/i18n";
import { Retention } from "./Retention";
import { filters, hasMore, load, loading, NO_FILTERS, problem, records, type AuditRecord, type Filters } from "./trail";

const when = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" });
const ACTOR_KINDS: [string, string][] = [["", N_("Anyone")], ["staff", N_("Staff")], ["customer", N_("Customers")],
                                          ["integration", N_("Integrations")], ["system", N_("The system")]];
const SUBJECT_TYPES = ["conversation", "customer", "api_token", "user"];

export function AuditPage({ events, canSetRetention }: { events: string[]; canSetRetention: boolean }) {
  useEffect(() => { load(true); }, []);
  return (
    <>
      <h2>{_("Audit trail")}</h2>
      <Retention canSet={canSetRetention} />
      <FilterForm events={events} />
      <p class="notice" role="alert" id="audit-problem">{problem.value}</p>
      <RecordTable />
      <div class="history-edge">
        {hasMore.value ? (
          <button type="button" class="link-button" id="audit-older" disabled={loading.value} onClick={() => load(false)}>
            {_("Show older records")}
          </button>
        ) : !loading.value && <p class="history-start" id="audit-end">
            {records.value.length ? _("No older records") : _("No records match these filters")}</p>}
      </div>
    </>
  );
}

function FilterForm({ events }: { events: string[] }) {
  const draft = useSignal<Filters>(filters.value);
  const field = (name: keyof Filters) => ({
    id: `filter-${name}`, name, value: draft.value[name],
    onInput: (e: Event) => { draft.value = { ...draft.value, [name]: (e.currentTarget as HTMLInputElement).value }; },
  });
  const apply = (next: Filters) => { draft.value = next; filters.value = next; load(true); };
  return (
    <form class="audit-filters" id="audit-filters" role="search" aria-label={_("Filter the audit trail")}
          onSubmit={(e) => { e.preventDefault(); apply(draft.value); }}>
      <div class="audit-filter">
        <label for="filter-event">{_("Event")}</label>
        <input {...field("event")} list="audit-event-names" autocomplete="off" />
        <datalist id="audit-event-names">{events.map((name) => <option key={name} value={name} />)}</datalist>
      </div>
      <div class="audit-filter">
        <label for="filter-actor_kind">{_("Who")}</label>
        <select {...field("actor_kind")}>
          {ACTOR_KINDS.map(([value, label]) => <option key={value} value={value}>{_(label)}</option>)}
        </select>
      </div>
      <div class="audit-filter">
        <label for="filter-actor_id">{_("Their id")}</label>
        <input {...field("actor_id")} type="number" min="1" inputMode="numeric" />
      </div>
      <div class="audit-filter">
        <label for="filter-subject_type">{_("About")}</label>
        <input {...field("subject_type")} list="audit-subject-types" autocomplete="off" />
        <datalist id="audit-subject-types">{SUBJECT_TYPES.map((t) => <option key={t} value={t} />)}</datalist>
      </div>
      <div class="audit-filter">
        <label for="filter-subject_id">{_("Its id")}</label>
        <input {...field("subject_id")} type="number" min="1" inputMode="numeric" />
      </div>
      <div class="audit-filter">
        <label for="filter-since">{_("From")}</label>
        <input {...field("since")} type="datetime-local" />
      </div>
      <div class="audit-filter">
        <label for="filter-until">{_("Until")}</label>
        <input {...field("until")} type="datetime-local" />
      </div>
      <div class="audit-filter-buttons">
        <button type="submit" class="button primary" id="audit-apply">{_("Show")}</button>
        <button type="button" class="button" id="audit-clear" onClick={() => apply(NO_FILTERS)}>{_("Clear")}</button>
      </div>
    </form>
  );
}

function RecordTable() {
  return (
    <table class="audit-records" id="audit-records" aria-busy={loading.value}>
      <caption class="visually-hidden">{_("Audit records, newest first")}</caption>
      <thead>
        <tr><th scope="col">#</th><th scope="col">{_("When")}</th><th scope="col">{_("Event")}</th>
            <th scope="col">{_("Who")}</th><th scope="col">{_("About")}</th><th scope="col">{_("Details")}</th></tr>
      </thead>
      <tbody>{records.value.map((r) => <Row key={r.seq} r={r} />)}</tbody>
    </table>
  );
}

function Row({ r }: { r: AuditRecord }) {
  const who = r.actor_kind === "system" ? (r.actor_name || _("The system"))
    : `${r.actor_name || "—"} (${r.actor_kind}${r.actor_id ? ` #${r.actor_id}` : ""})`;
  return (
    <tr data-seq={r.seq}>
      <td>{r.seq}</td>
      <td><time dateTime={r.occurred_at}>{when.format(new Date(r.occurred_at))}</time></td>
      <td><code>{r.event}</code></td>
      <td>{who}{r.address && <span class="audit-address">{format("from %s", r.address)}</span>}</td>
      <td>{r.subject_type ? `${r.subject_type}${r.subject_id ? ` #${r.subject_id}` : ""}` : "—"}</td>
      <td><Details data={r.data} /></td>
    </tr>
  );
}

function Details({ data }: { data: Record<string, unknown> }) {
  const entries = Object.entries(data);
  if (!entries.length) return <>—</>;
  return (
    <dl class="audit-data">
      {entries.map(([k, v]) => (
        <div key={k}><dt>{k}</dt><dd>{typeof v === "string" ? v : JSON.stringify(v)}</dd></div>
      ))}
    </dl>
  );
}
