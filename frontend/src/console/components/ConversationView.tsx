// The open conversation: who and what it is, what you may do with it (by role and by who
// handles it), and two views: the conversation itself and the customer's whole history.
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { accept, end, join, leave, notice, release, send, showError } from "../actions";
import { _, duration, format, stateLabel } from "../i18n";
import {
  clock, handles, isFollowing, isMine, isSupervisor, presence, quickAnswers, selectedTyping, type Conversation,
} from "../store";
import { BarDialog } from "./BarDialog";
import { CaseControls } from "./CaseControls";
import { DocumentsPanel } from "./DocumentsPanel";
import { Composer } from "./Composer";
import { ContinueDialog } from "./ContinueDialog";
import { CustomerPanel } from "./CustomerPanel";
import { DetailsPanel } from "./DetailsPanel";
import { HistoryPanel } from "./HistoryPanel";
import { Messages } from "./Messages";
import { QUICK_ANSWER_TYPE, QuickAnswers } from "./QuickAnswers";
import { QueueDialog } from "./QueueDialog";
import { RejectDialog } from "./RejectDialog";
import { Tabs, type TabItem } from "./Tabs";
import { TagsPanel } from "./TagsPanel";
import { TransferDialog } from "./TransferDialog";

type View = "conversation" | "history";

type Dialog = "transfer" | "continue" | "queue" | "reject" | "bar";

function Actions({ c, open }: { c: Conversation; open: (d: Dialog) => void }) {
  if (!handles.value) return <p class="hint read-only">{_("Read only")}</p>;
  const mine = isMine(c);
  const following = isFollowing(c);
  // The handling agent, or any supervisor of the line (docs/protocol.md §2).
  const handling = c.state === "active" && (mine || isSupervisor.value);
  const confirmed = (question: string, then: () => unknown) => () => { if (confirm(question)) void then(); };
  return (
    <div class="actions">
      {c.state === "waiting" && <button type="button" class="button primary" id="accept" onClick={() => accept(c.id)}>{_("Accept")}</button>}
      {isSupervisor.value && c.state === "active" && !following && (
        <button type="button" class="button" id="join" onClick={() => join(c.id)}>{_("Join")}</button>
      )}
      {isSupervisor.value && following && !mine && (
        <button type="button" class="button" id="leave" onClick={() => leave(c.id)}>{_("Leave")}</button>
      )}
      {handling && <button type="button" class="button" id="transfer" aria-haspopup="dialog" onClick={() => open("transfer")}>{_("Transfer")}</button>}
      {handling && (
        <button type="button" class="button" id="release"
                onClick={confirmed(_("Return this conversation to the queue for another agent?"), () => release(c.id))}>
          {_("Return to queue")}
        </button>
      )}
      {handling && (
        <button type="button" class="button" id="end" onClick={confirmed(_("End this conversation?"), () => end(c.id))}>
          {_("End conversation")}
        </button>
      )}
      {/* Outbound: only a customer signed in with the bank can be written to after the end (seed 000). */}
      {c.state === "ended" && c.customer.authenticated && (
        <button type="button" class="button primary" id="continue" aria-haspopup="dialog" onClick={() => open("continue")}>
          {_("Continue conversation")}
        </button>
      )}
      <MoreActions items={[
        (c.state === "waiting" || handling) && { id: "move-queue", label: _("Move to queue"), dialog: "queue" as const },
        (c.state === "waiting" || handling) && { id: "reject", label: _("Reject"), dialog: "reject" as const },
        (c.state === "waiting" || handling || (c.state === "ended" && (mine || isSupervisor.value))) && !c.customer.barred
          && { id: "bar", label: _("Bar customer"), dialog: "bar" as const },
      ]} open={open} />
    </div>
  );
}

// The less frequent actions (move, reject, bar) behind one "More" button: a menu button
// (aria-haspopup, arrow keys between its items, Escape closes it and gives the focus back).
function MoreActions({ items, open }: { items: (false | { id: string; label: string; dialog: Dialog })[];
                                       open: (d: Dialog) => void }) {
  const shown = useSignal(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const present = items.filter((item): item is { id: string; label: string; dialog: Dialog } => Boolean(item));
  useEffect(() => {
    if (shown.value) menu.current?.querySelector<HTMLButtonElement>("button")?.focus();
  }, [shown.value]);
  if (!present.length) return null;
  const close = () => { shown.value = false; button.current?.focus(); };
  return (
    <div class="more-actions" onKeyDown={(e) => {
      if (e.key === "Escape" && shown.value) { e.preventDefault(); close(); }
      if (shown.value && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
        e.preventDefault();
        const buttons = [...(menu.current?.querySelectorAll<HTMLButtonElement>("button") ?? [])];
        const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
        buttons[(at + (e.key === "ArrowDown" ? 1 : buttons.length - 1)) % buttons.length]?.focus();
      }
    }}>
      <button type="button" class="button" id="more-actions" ref={button} aria-haspopup="menu"
              aria-expanded={shown.value} aria-controls="more-actions-menu"
              onClick={() => { shown.value = !shown.value; }}>{_("More")} ▾</button>
      {shown.value && (
        <div class="menu" id="more-actions-menu" role="menu" ref={menu} aria-labelledby="more-actions">
          {present.map((item) => (
            <button type="button" key={item.id} id={item.id} role="menuitem" aria-haspopup="dialog"
                    onClick={() => { shown.value = false; open(item.dialog); }}>{item.label}</button>
          ))}
        </div>
      )}
    </div>
  );
}

// Who else has this conversation open, and who of them is typing.
function Presence({ id }: { id: number }) {
  const now = Math.max(clock.value, Date.now());
  const here = [...(presence.value.get(id)?.values() ?? [])].filter((p) => p.until > now);
  if (!here.length) return null;
  const typing = here.filter((p) => p.typingUntil > now).map((p) => p.name);
  const viewing = here.filter((p) => p.typingUntil <= now).map((p) => p.name);
  const parts = [
    viewing.length ? format("%s also has this conversation open", viewing.join(", ")) : "",
    typing.length ? format("%s is typing…", typing.join(", ")) : "",
  ].filter(Boolean);
  return <p class="presence" id="presence" aria-live="polite">{parts.join(" · ")}</p>;
}

export function ConversationView({ c, maxChars }: { c: Conversation; maxChars: number }) {
  const view = useSignal<View>("conversation");
  const dialog = useSignal<Dialog | null>(null);
  const dropping = useSignal(false);
  const close = () => { dialog.value = null; };
  const mine = isMine(c);
  const writes = handles.value && (mine || isFollowing(c)); // notes: also after the end
  const replies = writes && c.state === "active";
  const guest = (c.customer.authenticated ? "" : c.customer.contact ? ` (${_("recognized")})` : ` (${_("guest")})`)
    + (c.customer.barred ? ` · ${_("barred")}` : "");
  const handler = c.assigned_agent && !mine ? format("handled by %s", c.assigned_agent.name) : "";
  const queue = c.state === "waiting" ? format("in the %s queue", c.queue.name) : "";
  const rejected = c.rejection ? _("rejected") : "";
  // Auto-close: the time left before the channel closes it if the customer does not write.
  const left = c.closes_at ? Math.max(0, new Date(c.closes_at).getTime() - clock.value) : null;
  const closes = left === null ? "" : format("closes in %s", duration(left));
  const sub = [stateLabel(c.state), queue, rejected, c.outbound ? _("started by the bank") : "", handler, closes]
    .filter(Boolean).join(" · ");
  // What the bank's sign-in says of the customer, as far as its claim mapping shows it.
  const details = c.customer.details.map((d) => `${d.label}: ${d.value}`).join(" · ");
  const views: TabItem<View>[] = [
    { id: "conversation", label: _("Conversation") },
    { id: "history", label: _("Customer history") },
  ];
  return (
    <section id="detail" aria-labelledby="detail-title">
      <header class="detail-header">
        <div>
          <h2 id="detail-title">{c.customer.name}{guest}</h2>
          {details && <p class="chat-sub" id="detail-customer">{details}</p>}
          <p class="chat-sub" id="detail-sub">{sub}</p>
          <CaseControls c={c} />
        </div>
        <Actions c={c} open={(d) => { dialog.value = d; }} />
      </header>
      <Presence id={c.id} />
      <p class="notice" id="notice" role="alert">{notice.value}</p>
      <div class="detail-body">
      <div class="detail-main">
      <Tabs label={_("Views of the conversation")} prefix="view" items={views} selected={view.value}
            panel={(id) => `panel-${id}`} onSelect={(id) => { view.value = id; }} class="tabs view-tabs" />
      {/* The conversation stays mounted while the history is shown: a half-written reply survives. */}
      <div class="conversation-panel" id="panel-conversation" role="tabpanel" aria-labelledby="view-conversation"
           hidden={view.value !== "conversation"}>
        <div class={`drop-to-send${dropping.value ? " dropping" : ""}`} id="drop-to-send"
             onDragOver={(e) => {
               if (!replies || !e.dataTransfer?.types.includes(QUICK_ANSWER_TYPE)) return;
               e.preventDefault(); // a quick answer dropped here is sent as it is
               dropping.value = true;
             }}
             onDragLeave={() => { dropping.value = false; }}
             onDrop={(e) => {
               dropping.value = false;
               const answer = quickAnswers.value.find((a) => String(a.id) === e.dataTransfer?.getData(QUICK_ANSWER_TYPE));
               if (!replies || !answer) return;
               e.preventDefault();
               send(c.id, answer.body, "public").catch(showError);
             }}>
          <Messages c={c} shown={view.value === "conversation"} />
          {dropping.value && <p class="drop-hint">{_("Drop to send it now")}</p>}
        </div>
        <p class="typing" id="typing" aria-live="polite">
          {selectedTyping.value ? format("%s is typing…", c.customer.name) : ""}
        </p>
        {writes && <Composer conversationId={c.id} maxChars={maxChars} canReply={c.state === "active"}
                             carries={c.channel_carries} maxFileMb={c.channel_max_file_mb} />}
      </div>
      {view.value === "history" && <HistoryPanel c={c} />}
      </div>
      {handles.value && (
        <aside class="interaction-panel" id="interaction-panel" aria-label={_("Interaction panel")}>
          <CustomerPanel c={c} mayRelate={writes || isSupervisor.value} />
          <DetailsPanel c={c} />
          <TagsPanel c={c} mayTag={writes || isSupervisor.value} />
          <DocumentsPanel c={c} />
          <QuickAnswers conversationId={c.id} canReply={replies} />
        </aside>
      )}
      </div>
      {dialog.value === "transfer" && <TransferDialog c={c} onClose={close} />}
      {dialog.value === "continue" && <ContinueDialog c={c} onClose={close} />}
      {dialog.value === "queue" && <QueueDialog c={c} onClose={close} />}
      {dialog.value === "reject" && <RejectDialog c={c} onClose={close} />}
      {dialog.value === "bar" && <BarDialog c={c} onClose={close} />}
    </section>
  );
}
