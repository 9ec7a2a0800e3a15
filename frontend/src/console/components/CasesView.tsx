// The Cases module (seed 001): the cases you may see, newest first — the customer's name (or
// "Customer"), the subject over the case type, the status and the creation date — with
// filters, search and "More cases" (keyset pages); a case opens on its whole timeline.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { loadCases, loadMoreTimeline, openCaseById, setCaseStatus, showError, notice } from "../actions";
import { _, format, stateLabel, locale } from "../i18n";
import {
  caseFilters, caseList, caseStatuses, caseTypes, changesCases, lineHandlers, me, openCase, seesWholeLine, tags,
  type CaseFilters,
} from "../store";
import { Item } from "./Messages";

const day = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", year: "numeric" });

function Filters() {
  const draft = useSignal<CaseFilters>({ ...caseFilters.value });
  const set = (patch: CaseFilters) => { draft.value = { ...draft.value, ...patch }; };
  const number = (value: string) => (value ? Number(value) : undefined);
  const apply = (e: Event) => {
    e.preventDefault();
    caseFilters.value = { ...draft.value };
    loadCases(true).catch(showError);
  };
  return (
    <form class="case-filters" id="case-filters" onSubmit={apply} role="search" aria-label={_("Find cases")}>
      <label>{_("Search")}
        <input type="search" id="case-q" placeholder={_("Customer name, or #case")} value={draft.value.q ?? ""}
               onInput={(e) => set({ q: e.currentTarget.value })} maxLength={100} />
      </label>
      <label>{_("Status")}
        <select id="case-filter-status" value={draft.value.status_id ?? ""}
                onChange={(e) => set({ status_id: number(e.currentTarget.value) })}>
          <option value="">{_("Any")}</option>
          {caseStatuses.value.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
        </select>
      </label>
      <label>{_("Case type")}
        <select id="case-filter-type" value={draft.value.case_type_id ?? ""}
                onChange={(e) => set({ case_type_id: number(e.currentTarget.value) })}>
          <option value="">{_("Any")}</option>
          {caseTypes.value.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
        </select>
      </label>
      <label>{_("Tag")}
        <select id="case-filter-tag" value={draft.value.tag_id ?? ""}
                onChange={(e) => set({ tag_id: number(e.currentTarget.value) })}>
          <option value="">{_("Any")}</option>
          {tags.value.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
        </select>
      </label>
      {seesWholeLine.value && (
        <label>{_("Agent")}
          <select id="case-filter-agent" value={draft.value.agent_id ?? ""}
                  onChange={(e) => set({ agent_id: number(e.currentTarget.value) })}>
            <option value="">{_("Anyone")}</option>
            {lineHandlers.value.map((h) => <option key={h.id} value={h.id}>{h.name}</option>)}
          </select>
        </label>
      )}
      <label>{_("Created from")}
        <input type="date" id="case-from" value={draft.value.created_from ?? ""}
               onInput={(e) => set({ created_from: e.currentTarget.value || undefined })} />
      </label>
      <label>{_("to")}
        <input type="date" id="case-to" value={draft.value.created_to ?? ""}
               onInput={(e) => set({ created_to: e.currentTarget.value || undefined })} />
      </label>
      <button type="submit" class="button" id="case-apply">{_("Show")}</button>
    </form>
  );
}

function CaseTable() {
  const list = caseList.value;
  return (
    <>
      <table class="case-table" id="case-table">
        <caption class="visually-hidden">{_("Cases, newest first")}</caption>
        <thead>
          <tr><th scope="col">{_("Customer")}</th><th scope="col">{_("Subject / case type")}</th>
              <th scope="col">{_("Status")}</th><th scope="col">{_("Created")}</th></tr>
        </thead>
        <tbody>
          {list.cases.map((c) => (
            <tr key={c.id} data-case={c.id}>
              <td>
                <button type="button" class="link-button case-open" onClick={() => openCaseById(c.id).catch(showError)}>
                  {c.customer.name}
                </button>
              </td>
              <td><span class="subject">{c.topic.name}</span><span class="case-type">{c.case_type.name}</span></td>
              <td class={c.status.resolved ? "resolved" : ""}>{c.status.name}</td>
              <td><time dateTime={c.created_at}>{day.format(new Date(c.created_at))}</time></td>
            </tr>
          ))}
        </tbody>
      </table>
      {!list.loaded ? <p class="hint">{_("Loading…")}</p>
        : !list.cases.length ? <p class="hint" id="cases-empty">{_("No cases match.")}</p> : null}
      {list.nextBeforeId !== null && (
        <button type="button" class="link-button" id="cases-more" onClick={() => loadCases(false).catch(showError)}>
          {_("More cases")}
        </button>
      )}
    </>
  );
}

function CasePage() {
  const open = openCase.value!;
  const c = open.detail;
  // Closed once resolved with no conversation open (the server says so too: 409 case_resolved).
  const closed = c.status.resolved && c.conversations.every((x) => x.state === "ended");
  const handled = c.handlers.some((h) => h.id === me.value.id);
  const mayChange = changesCases.value && (handled || me.value.role !== "agent") && !closed;
  return (
    <section class="case-page" id="case-page" aria-labelledby="case-title">
      <button type="button" class="link-button" id="case-back" onClick={() => { openCase.value = null; }}>
        {_("← All cases")}
      </button>
      <h2 id="case-title">{format("Case #%s · %s", c.id, c.customer.name)}</h2>
      <p class="chat-sub">{c.topic.name} · {c.case_type.name} · {c.line_of_business.name}
        {c.handlers.length ? ` · ${format("handled by %s", c.handlers.map((h) => h.name).join(", "))}` : ""}</p>
      <label class="case-field">
        <span>{_("Status")}</span>
        {mayChange ? (
          <select id="case-page-status" value={c.status.id} onChange={(e) => void setCaseStatus(c.id, Number(e.currentTarget.value))}>
            {caseStatuses.value.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          </select>
        ) : <output id="case-page-status-text">{c.status.name}</output>}
      </label>
      <p class="notice" role="alert">{notice.value}</p>
      <h3>{_("Timeline")}</h3>
      <ol class="thread case-timeline" id="case-timeline">
        {open.items.map((m, i) => {
          const conversation = c.conversations.find((x) => x.id === m.conversation_id);
          const starts = i === 0 || open.items[i - 1].conversation_id !== m.conversation_id;
          return [
            starts && conversation && (
              <li class="timeline-conversation" key={`c${m.id}`}>
                {format("Conversation of %s", day.format(new Date(conversation.created_at)))} · {conversation.topic.name}
                {" · "}{stateLabel(conversation.state)}{conversation.outbound ? ` · ${_("started by the bank")}` : ""}
              </li>
            ),
            <Item key={m.id} m={m} customerName={c.customer.name} />,
          ];
        })}
      </ol>
      {open.hasMore && (
        <button type="button" class="link-button" id="timeline-more" onClick={() => loadMoreTimeline().catch(showError)}>
          {_("Show more")}
        </button>
      )}
    </section>
  );
}

export function CasesView() {
  useEffect(() => { if (!caseList.value.loaded) loadCases(true).catch(showError); }, []);
  return (
    <section class="cases" id="cases" aria-label={_("Cases")}>
      {openCase.value ? <CasePage /> : (
        <>
          <h2 id="cases-title">{_("Cases")}</h2>
          <Filters />
          <p class="notice" role="alert">{notice.value}</p>
          <CaseTable />
        </>
      )}
    </section>
  );
}
