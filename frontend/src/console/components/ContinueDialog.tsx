// "Continue conversation" (outbound, from Ended): the agent picks a topic and may write the
// first message; the new conversation is theirs, in progress. Only for customers signed in
// with the bank (docs/protocol.md §11).
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { continueConversation } from "../actions";
import { _, format } from "../i18n";
import { topics, type Conversation } from "../store";
import { keepFocusInside } from "./dialog";

export function ContinueDialog({ c, onClose }: { c: Conversation; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const topic = useSignal<number>(c.topic.id);
  const body = useSignal("");
  const error = useSignal("");
  const busy = useSignal(false);

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    dialog.current!.showModal();
    dialog.current!.querySelector<HTMLElement>("#continue-topic")?.focus();
    return () => opener?.focus();
  }, [c.id]);

  const submit = async (e: Event) => {
    e.preventDefault();
    busy.value = true;
    error.value = "";
    try {
      await continueConversation(c.id, topic.value, body.value);
      onClose();
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
      busy.value = false;
    }
  };

  return (
    <dialog ref={dialog} id="continue-dialog" class="dialog" aria-labelledby="continue-title"
            aria-describedby="continue-desc" onKeyDown={keepFocusInside} onCancel={(e) => { e.preventDefault(); onClose(); }}>
      <form class="stack" onSubmit={submit}>
        <h2 id="continue-title">{_("Continue conversation")}</h2>
        <p class="hint" id="continue-desc">
          {format("A new conversation with %s, handled by you. It continues their open case of the topic's case type, or opens a new case.",
                  c.customer.name)}
        </p>
        <label for="continue-topic">{_("Topic")}</label>
        <select id="continue-topic" value={topic.value} onChange={(e) => { topic.value = Number(e.currentTarget.value); }}>
          {topics.value.map((t) => <option key={t.id} value={t.id}>{t.name} · {t.case_type.name}</option>)}
        </select>
        <label for="continue-body">{_("First message")} <span class="hint">({_("optional; the customer sees it")})</span></label>
        <textarea id="continue-body" rows={3} value={body.value} onInput={(e) => { body.value = e.currentTarget.value; }} />
        <p class="form-error" id="continue-error" role="alert">{error.value}</p>
        <div class="dialog-buttons">
          <button type="button" class="button" id="continue-cancel" onClick={onClose}>{_("Cancel")}</button>
          <button type="submit" class="button primary" id="continue-confirm" disabled={busy.value || !topics.value.length}>
            {_("Start conversation")}
          </button>
        </div>
      </form>
    </dialog>
  );
}
