// "Continue conversation" (outbound, from Ended): the agent picks a topic and may write the
// first message; the new conversation is theirs, in progress. Only for customers signed in
// with the bank (docs/protocol.md §11).
import { useSignal } from "@preact/signals";
import { continueConversation } from "../actions";
import { _, format } from "../i18n";
import { topics, type Conversation } from "../store";
import { ActionDialog } from "./ActionDialog";

export function ContinueDialog({ c, onClose }: { c: Conversation; onClose: () => void }) {
  const topic = useSignal<number>(c.topic.id);
  const body = useSignal("");
  return (
    <ActionDialog id="continue" title={_("Continue conversation")} confirm={_("Start conversation")}
                  firstField="#continue-topic" onClose={onClose} disabled={!topics.value.length}
                  description={format("A new conversation with %s, handled by you. It continues their open case of the topic's case type, or opens a new case.",
                                      c.customer.name)}
                  onSubmit={() => continueConversation(c.id, topic.value, body.value)}>
      <label for="continue-topic">{_("Topic")}</label>
      <select id="continue-topic" value={topic.value} onChange={(e) => { topic.value = Number(e.currentTarget.value); }}>
        {topics.value.map((t) => <option key={t.id} value={t.id}>{t.name} · {t.case_type.name}</option>)}
      </select>
      <label for="continue-body">{_("First message")} <span class="hint">({_("optional; the customer sees it")})</span></label>
      <textarea id="continue-body" rows={3} value={body.value} onInput={(e) => { body.value = e.currentTarget.value; }} />
    </ActionDialog>
  );
}
