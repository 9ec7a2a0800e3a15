// "Customer history": every conversation of this customer that staff may read (handled by
// anyone, notes included), newest first, each under a heading with its date, topic (when
// known), state and who handled it; each can be folded (this one starts folded: it has its
// own tab). Pages back by message id.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { forgetHistory, loadHistory, showError } from "../actions";
import { _, format, stateLabel, locale } from "../i18n";
import { conversations, EMPTY_HISTORY, histories, type Conversation, type Message } from "../store";
import { Item } from "./Messages";

const day = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
const ENDINGS = new Set(["ended", "customer_left"]);

interface Past {
  id: number;
  messages: Message[];
  state: string | null;
  topic: string | null;
  staff: string[];
}

// Messages of one conversation stay together even when a note was added after a later
// conversation began; the newest conversation comes first.
function pasts(messages: readonly Message[]): Past[] {
  const byConversation = new Map<number, Message[]>();
  for (const m of messages) byConversation.set(m.conversation_id, [...(byConversation.get(m.conversation_id) ?? []), m]);
  return [...byConversation].map(([id, items]) => {
    items.sort((a, b) => a.staff_seq - b.staff_seq);
    const known = conversations.value.get(id);
    // The history names no conversation's topic or state: what the console knows, or an ending line.
    const state = known?.state ?? (items.some((m) => ENDINGS.has(m.system_code ?? "")) ? "ended" : null);
    const staff = new Set<string>();
    for (const m of items) {
      if (m.author && (m.kind === "text" || m.system_code === "agent_joined")) staff.add(m.author.name);
    }
    return { id, messages: items, state, topic: known?.topic.name ?? null, staff: [...staff] };
  }).sort((a, b) => b.messages[0].id - a.messages[0].id);
}

export function HistoryPanel({ c }: { c: Conversation }) {
  const history = histories.value.get(c.customer.id) ?? EMPTY_HISTORY;
  // Earlier conversations open, this one (it has its own tab) closed, until the reader toggles them.
  const toggled = useSignal<ReadonlySet<number>>(new Set());
  const toggle = (id: number) => {
    const next = new Set(toggled.value);
    if (!next.delete(id)) next.add(id);
    toggled.value = next;
  };

  useEffect(() => { // read afresh each time the panel opens
    forgetHistory(c);
    loadHistory(c).catch(showError);
  }, [c.id]);

  return (
    <div class="history-panel" id="panel-history" role="tabpanel" aria-labelledby="view-history" tabIndex={0}>
      {!history.loaded && <p class="hint">{_("Loading…")}</p>}
      {pasts(history.messages).map((p) => {
        const facts = [p.topic, p.state && stateLabel(p.state),
                       p.staff.length ? format("handled by %s", p.staff.join(", ")) : null].filter(Boolean);
        const current = p.id === c.id;
        const open = current === toggled.value.has(p.id);
        return (
          <section class={`past${current ? " current" : ""}`} key={p.id} aria-labelledby={`past-${p.id}`}
                   data-conversation={p.id}>
            <h3>
              <button type="button" id={`past-${p.id}`} aria-expanded={open} aria-controls={`past-items-${p.id}`}
                      onClick={() => toggle(p.id)}>
                {current ? _("This conversation") : format("Conversation of %s", day.format(new Date(p.messages[0].created_at)))}
              </button>
            </h3>
            <p class="past-facts">{facts.join(" · ")}</p>
            <ol class="thread" id={`past-items-${p.id}`} hidden={!open}>
              {p.messages.map((m) => <Item key={m.id} m={m} customerName={c.customer.name} />)}
            </ol>
          </section>
        );
      })}
      <div class="history-edge">
        {history.hasMore ? (
          <button type="button" class="link-button" id="history-older" onClick={() => loadHistory(c).catch(showError)}>
            {_("Show older history")}
          </button>
        ) : history.loaded && <p class="history-start">{_("Start of the customer's history")}</p>}
      </div>
    </div>
  );
}
