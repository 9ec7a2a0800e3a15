// The open conversation's messages: a live log of a list, the agent's drafts at the end,
// scrolled to the newest unless the reader scrolled up; paging back keeps their place.
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import { loadEarlier, showError } from "../actions";
import { _, format, N_, locale } from "../i18n";
import { me, selectedDrafts, selectedThread, type Conversation, type Draft, type Message } from "../store";
import { messageText } from "@widget/lines.js";
import { MessageText } from "./MessageText";
import { FileItem, PlaceItem } from "./FileItem";

const time = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
type DeliveryState = "pending" | "sent" | "delivered" | "read" | "failed";
const STATE_LABELS: Record<DeliveryState, string> = {
  pending: N_("Sending…"), sent: N_("Sent"), delivered: N_("Delivered"), read: N_("Read"), failed: N_("Not sent"),
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

// What only staff see says so, in words (not only by colour).
function NoteLabel({ author }: { author?: string }) {
  return (
    <span class="note-label">
      <strong>{_("Internal note")}</strong> — {_("only staff see this")}{author && <> · <span class="who">{author}</span></>}
    </span>
  );
}

// One item of a conversation as staff see it: the customer's and staff messages, internal
// notes (tinted, labelled) and system lines (staff-only ones marked). `c` gives the
// customer's delivery marks for the open conversation; the history has none.
export function Item({ m, customerName, c }: { m: Message; customerName: string; c?: Conversation }) {
  const common = { "data-id": m.id, "data-seq": m.seq ?? undefined, "data-kind": m.kind };
  if (m.kind === "system") {
    const staffOnly = m.visibility === "staff";
    return (
      <li class={`msg system${staffOnly ? " staff-only" : ""}`} data-code={m.system_code ?? undefined} {...common}>
        {staffOnly && <span class="tag">{_("Staff only")}</span>}
        <MessageText text={messageText(m)} />
        {m.note && <blockquote class="line-note"><MessageText text={m.note} /></blockquote>}
      </li>
    );
  }
  if (m.kind === "note") {
    return (
      <li class="msg note" {...common}>
        <NoteLabel author={m.author?.name} />
        <Body m={m} />
        <Meta at={m.created_at} />
      </li>
    );
  }
  const staff = m.sender !== "customer";
  const state = staff && c ? deliveryState(m, c) : undefined;
  // Staff messages are the bank's side; who wrote one is said unless it was you.
  const author = staff ? (m.author?.id === me.value.id ? null : m.agent_name) : customerName;
  return (
    <li class={`msg ${staff ? "mine" : "theirs"}`} data-state={state} {...common}>
      {author && <span class="author">{author}</span>}
      <Body m={m} />
      <Meta at={m.created_at} state={state} />
    </li>
  );
}

// A file's or place's item shows that first; its text (a caption, a label) only if it has one.
function Body({ m }: { m: Message }) {
  return (
    <>
      {m.attachment && <FileItem file={m.attachment} />}
      {m.location && <PlaceItem place={m.location} />}
      {(m.text || (!m.attachment && !m.location)) && <MessageText text={m.text} />}
    </>
  );
}

function DraftItem({ d }: { d: Draft }) {
  const state = d.failed ? "failed" : "pending";
  const note = d.visibility === "staff";
  return (
    <li class={`msg ${note ? "note" : "mine"} ${state}`} data-client-id={d.clientMessageId} data-state={state}>
      {note && <NoteLabel />}
      <MessageText text={d.text} />
      <Meta at={d.createdAt} state={state} />
    </li>
  );
}

const NEAR_BOTTOM_PX = 80;

// `shown`: false while another view covers it (the panel is display:none, which forgets
// the scroll position): it comes back where the reader left it.
export function Messages({ c, shown }: { c: Conversation; shown: boolean }) {
  const thread = selectedThread.value;
  const drafts = selectedDrafts.value;
  const list = useRef<HTMLOListElement>(null);
  // What the list looked like before this render: to keep the reader's place.
  const before = useRef({ conversation: 0, first: 0, last: "", height: 0, top: 0, visibleHeight: 0, nearBottom: true,
                          shown: true });
  const first = thread.order[0] ?? 0;
  const last = `${thread.order.at(-1) ?? 0}/${drafts.length}`;

  useLayoutEffect(() => {
    const el = list.current!;
    const prev = before.current;
    if (!shown) {
      prev.shown = false;
      return;
    }
    if (prev.conversation !== c.id) el.scrollTop = el.scrollHeight; // just opened
    else if (!prev.shown) el.scrollTop = prev.nearBottom ? el.scrollHeight : prev.top; // shown again
    else if (prev.first !== first && prev.last === last) el.scrollTop = prev.top + (el.scrollHeight - prev.height); // paged back
    else if (prev.last !== last && (prev.nearBottom || drafts.length)) el.scrollTop = el.scrollHeight; // new at the end
    else if (prev.nearBottom && el.clientHeight !== prev.visibleHeight) el.scrollTop = el.scrollHeight; // resized (the composer came)
    remember();
  });

  // The list changes size without a render of this component (the window, the composer's
  // counter line): a reader at the newest message stays there.
  useEffect(() => {
    const el = list.current!;
    const observer = new ResizeObserver(() => {
      if (before.current.shown && before.current.nearBottom) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  function remember() {
    const el = list.current!;
    if (!shown) return;
    before.current = { conversation: c.id, first, last, height: el.scrollHeight, top: el.scrollTop,
                       visibleHeight: el.clientHeight, shown,
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
          {thread.order.map((id) => <Item key={id} m={thread.byId.get(id)!} customerName={c.customer.name} c={c} />)}
          {drafts.map((d) => <DraftItem key={d.clientMessageId} d={d} />)}
        </ol>
      </div>
    </>
  );
}
