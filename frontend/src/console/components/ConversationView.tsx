import { accept, end } from "../actions";
import { _, format } from "../i18n";
import { isMine, selectedTyping, type Conversation } from "../store";
import { Composer } from "./Composer";
import { Messages } from "./Messages";

const STATES: Record<string, string> = { waiting: "Waiting", active: "In progress", ended: "Ended" };

export function ConversationView({ c, maxChars }: { c: Conversation; maxChars: number }) {
  const mine = isMine(c);
  const takenOrEnded = c.state !== "waiting" && !mine;
  const guest = c.customer.authenticated ? "" : ` (${_("guest")})`;
  const sub = takenOrEnded
    ? _("A colleague took this conversation, or it ended.")
    : `${c.topic.name} · ${c.case_type.name} · ${format("case #%s", c.case_id)} · ${_(STATES[c.state] ?? c.state)}`;
  return (
    <section id="detail" aria-labelledby="detail-title">
      <header class="detail-header">
        <div>
          <h2 id="detail-title">{c.customer.name}{guest}</h2>
          <p class="chat-sub" id="detail-sub">{sub}</p>
        </div>
        <div class="actions">
          {c.state === "waiting" && <button type="button" class="button primary" id="accept" onClick={() => accept(c.id)}>{_("Accept")}</button>}
          {mine && c.state === "active" && (
            <button type="button" class="button" id="end"
                    onClick={() => { if (confirm(_("End this conversation?"))) void end(c.id); }}>
              {_("End conversation")}
            </button>
          )}
        </div>
      </header>
      <Messages c={c} />
      <p class="typing" id="typing" aria-live="polite">
        {selectedTyping.value ? format("%s is typing…", c.customer.name) : ""}
      </p>
      {mine && c.state === "active" && <Composer conversationId={c.id} maxChars={maxChars} />}
    </section>
  );
}
