// The three lists as tabs (WAI-ARIA tabs: arrow keys move between them), each conversation
// a button with its unread badge.
import { selectTab, select, showError } from "../actions";
import { _, format } from "../i18n";
import { lists, listsLoaded, selectedId, tab, type Conversation, type Tab } from "../store";

const TABS: { id: Tab; label: string; counted: boolean }[] = [
  { id: "active", label: "In progress", counted: true },
  { id: "waiting", label: "Waiting", counted: true },
  { id: "ended", label: "Ended", counted: false },
];

const when = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", day: "numeric", month: "short" });

function Tabs() {
  const onKeyDown = (e: KeyboardEvent) => {
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    const index = TABS.findIndex((t) => t.id === tab.value);
    const next = TABS[(index + step + TABS.length) % TABS.length];
    selectTab(next.id);
    document.getElementById(`tab-${next.id}`)?.focus();
  };
  return (
    <div class="tabs" role="tablist" aria-label={_("Conversations")} onKeyDown={onKeyDown}>
      {TABS.map((t) => {
        const count = lists.value[t.id].length;
        const selected = tab.value === t.id;
        return (
          <button role="tab" type="button" id={`tab-${t.id}`} key={t.id} aria-controls="list-panel" aria-selected={selected}
                  tabIndex={selected ? 0 : -1} data-state={t.id} onClick={() => selectTab(t.id)}>
            {_(t.label)} {t.counted && <span class="count" id={`count-${t.id}`}>{count || ""}</span>}
          </button>
        );
      })}
    </div>
  );
}

function Item({ c }: { c: Conversation }) {
  const current = selectedId.value === c.id;
  return (
    <li>
      <button type="button" data-id={c.id} aria-current={current ? "true" : undefined}
              onClick={() => select(c.id).catch(showError)}>
        <span class="name">{c.customer.name}</span>
        {c.unread_count > 0 && (
          <span class="badge unread" aria-label={format("%s unread", c.unread_count)}>{c.unread_count}</span>
        )}
        <span class="topic">{c.topic.name} · {c.case_type.name}</span>
        <span class="when">{when.format(new Date(c.last_message_at))}</span>
      </button>
    </li>
  );
}

export function Sidebar() {
  const items = lists.value[tab.value];
  return (
    <nav class="sidebar" aria-label={_("Conversations")}>
      <Tabs />
      <div role="tabpanel" id="list-panel" aria-labelledby={`tab-${tab.value}`} class="list-panel">
        <ul class="conversation-list" id="list">
          {items.length ? items.map((c) => <Item c={c} key={c.id} />)
                        : <li class="empty-list">{listsLoaded.value ? _("Nothing here.") : _("Loading…")}</li>}
        </ul>
      </div>
    </nav>
  );
}
