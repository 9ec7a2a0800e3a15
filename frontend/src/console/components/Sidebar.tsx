// The lists as tabs, each conversation a button with its unread badge. Agents and
// supervisors have their own lists (In progress, Waiting, Ended); supervisors,
// administrators and auditors also the whole line of business, live.
import { searchEnded, selectTab, select, showError, showModule } from "../actions";
import { _, format, locale } from "../i18n";
import {
  endedQuery, handles, isMine, lists, listsLoaded, module, seesWholeLine, selectedId, tab, type Conversation, type Tab,
} from "../store";
import { Tabs, type TabItem } from "./Tabs";

// The lists' names: "tab" tells translators these name lists of conversations ("Ended" ones),
// not one conversation's state.
const LABELS: Record<Tab, () => string> = {
  active: () => pgettext("tab", "In progress"), waiting: () => pgettext("tab", "Waiting"),
  ended: () => pgettext("tab", "Ended"), line: () => pgettext("tab", "Line of business"),
};
const COUNTED: Tab[] = ["active", "waiting", "line"];

const when = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", day: "numeric", month: "short" });

function tabsForRole(): Tab[] {
  const own: Tab[] = handles.value ? ["active", "waiting", "ended"] : ["waiting"];
  return seesWholeLine.value ? [...own, "line"] : own;
}

function Item({ c, line }: { c: Conversation; line: boolean }) {
  const current = selectedId.value === c.id;
  const unread = !line && (c.state === "waiting" || isMine(c)) ? c.unread_count : 0;
  return (
    <li>
      <button type="button" data-id={c.id} aria-current={current ? "true" : undefined}
              onClick={() => select(c.id).catch(showError)}>
        <span class="name">{c.customer.name}</span>
        {unread > 0 && <span class="badge unread" aria-label={format("%s unread", unread)}>{unread}</span>}
        <span class="topic">
          {c.topic.name} · {line ? c.assigned_agent?.name : c.state === "waiting" ? c.queue.name : c.case_type.name}
        </span>
        <span class="when">{when.format(new Date(c.last_message_at))}</span>
      </button>
    </li>
  );
}

export function Sidebar() {
  const current = tab.value;
  const items = lists.value[current];
  const tabs: TabItem<Tab>[] = tabsForRole().map((id) => ({
    id, label: LABELS[id](),
    after: COUNTED.includes(id) && <span class="count" id={`count-${id}`}>{lists.value[id].length || ""}</span>,
  }));
  return (
    <nav class="sidebar" aria-label={_("Conversations")}>
      <Tabs label={_("Conversations")} prefix="tab" items={tabs} selected={current} panel={() => "list-panel"}
            onSelect={selectTab} class={`tabs tabs-${tabs.length}`} />
      <div role="tabpanel" id="list-panel" aria-labelledby={`tab-${current}`} class="list-panel">
        {current === "ended" && (
          <form class="list-search" role="search" onSubmit={(e) => {
            e.preventDefault();
            const text = (e.currentTarget.elements.namedItem("q") as HTMLInputElement).value;
            searchEnded(text).catch(showError);
          }}>
            <label for="ended-search" class="visually-hidden">{_("Find a signed-in customer")}</label>
            <input type="search" id="ended-search" name="q" placeholder={_("Find a signed-in customer")}
                   defaultValue={endedQuery.value} maxLength={100} />
            <button type="submit" class="button" id="ended-search-go">{_("Find")}</button>
          </form>
        )}
        <ul class="conversation-list" id="list">
          {items.length ? items.map((c) => <Item c={c} line={current === "line"} key={c.id} />)
                        : <li class="empty-list">{listsLoaded.value ? _("Nothing here.") : _("Loading…")}</li>}
        </ul>
      </div>
      {/* The Cases module, below the conversations (seed 001). */}
      <div class="modules">
        <button type="button" class="button module-button" id="cases-link" aria-pressed={module.value === "cases"}
                onClick={() => showModule(module.value === "cases" ? "conversations" : "cases")}>
          {module.value === "cases" ? _("Back to conversations") : _("Cases")}
        </button>
        <button type="button" class="button module-button" id="contacts-link" aria-pressed={module.value === "contacts"}
                onClick={() => showModule(module.value === "contacts" ? "conversations" : "contacts")}>
          {module.value === "contacts" ? _("Back to conversations") : _("Contacts")}
        </button>
      </div>
    </nav>
  );
}
