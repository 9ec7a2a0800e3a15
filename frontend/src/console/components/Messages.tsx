// The open conversation's messages: a live log of a list, the agent's drafts at the end,
// scrolled to the newest unless the reader scrolled up; paging back keeps their place.
import { useLayoutEffect, useRef } from "preact/hooks";
import { loadEarlier, showError } from "../actions";
import { _, format } from "../i18n";
import { selectedDrafts, selectedThread, type Conversation, type Draft, type Message } from "../store";
import { MessageText } from "./MessageText";

const time = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
type DeliveryState = "pending" | "sent" | "delivered" | "read" | "failed";
const STATE_LABELS: Record<DeliveryState, string> = {
  pending: "Sending…", sent: "Sent", delivered: "Delivered", read: "Read", failed: "Not sent",
};

// The customer's marks count what the customer can see (`seq`); an item they cannot see has none.
function deliveryState(m: Message, c: Conversation): DeliveryState | undefined {
  const seq: number | null = m.seq;
  if (seq === null) return undefined;
  return seq <= c.customer_read_seq ? "read" : seq <= c.customer_delivered_seq ? "delivered" : "sent";
}

function Meta({ at, state }: { at: string; state?: DeliveryState }) {
  return (
    <span class="meta">
      <time dateTime={at}>{time.format(new Date(at))}</time>
      {state && <span class="state"> · {_(STATE_LABELS[state])}</span>}
    </span>
  );
}

function Item({ m, c }: { m: Message; c: Conversation }) {
  if (m.sender === "system") {
    return <li class="msg system" data-id={m.id} data-seq={m.seq}><MessageText text={m.text} /></li>;
  }
  const mine = m.sender === "agent";
  const state = mine ? deliveryState(m, c) : undefined;
  const author = m.sender === "customer" ? c.customer.name : m.agent_name;
  return (
    <li class={`msg ${mine ? "mine" : "theirs"}`} data-id={m.id} data-seq={m.seq} data-state={state}>
      {!mine && <span class="author">{author}</span>}
      <MessageText text={m.text} />
      <Meta at={m.created_at} state={state} />
    </li>
  );
}

function DraftItem({ d }: { d: Draft }) {
  const state = d.failed ? "failed" : "pending";
  return (
    <li class={`msg mine ${state}`} data-client-id={d.clientMessageId} data-state={state}>
      <MessageText text={d.text} />
      <Meta at={d.createdAt} state={state} />
    </li>
  );
}

const NEAR_BOTTOM_PX = 80;

export function Messages({ c }: { c: Conversation }) {
  const thread = selectedThread.value;
  const drafts = selectedDrafts.value;
  const list = useRef<HTMLOListElement>(null);
  // What the list looked like before this render: to keep the reader's place.
  const before = useRef({ conversation: 0, first: 0, last: "", height: 0, top: 0, nearBottom: true });
  const first = thread.order[0] ?? 0;
  const last = `${thread.order.at(-1) ?? 0}/${drafts.length}`;

  useLayoutEffect(() => {
    const el = list.current!;
    const prev = before.current;
    if (prev.conversation !== c.id) el.scrollTop = el.scrollHeight; // just opened
    else if (prev.first !== first && prev.last === last) el.scrollTop = prev.top + (el.scrollHeight - prev.height); // paged back
    else if (prev.last !== last && (prev.nearBottom || drafts.length)) el.scrollTop = el.scrollHeight; // new at the end
    remember();
  });

  function remember() {
    const el = list.current!;
    before.current = { conversation: c.id, first, last, height: el.scrollHeight, top: el.scrollTop,
                       nearBottom: el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX };
  }

  return (
    <>
      <div class="history-edge">
        {thread.hasMore ? (
          <button type="button" class="link-button load-earlier" id="load-earlier"
                  onClick={() => loadEarlier(c.id).catch(showError)}>
            {_("Show earlier messages")}
          </button>
        ) : thread.loaded && <p class="history-start">{_("Start of the conversation")}</p>}
      </div>
      <div class="log" role="log" aria-live="polite" aria-label={format("Messages with %s", c.customer.name)}>
        <ol class="messages" id="messages" ref={list} onScroll={remember}>
          {thread.order.map((id) => <Item key={id} m={thread.byId.get(id)!} c={c} />)}
          {drafts.map((d) => <DraftItem key={d.clientMessageId} d={d} />)}
        </ol>
      </div>
    </>
  );
}
