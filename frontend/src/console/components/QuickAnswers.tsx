// Quick answers (seed 004): the line's prepared replies, by category. Drag one into the
// composer to edit it there, or onto the conversation to send it at once; without a mouse,
// "Insert" and "Send" do the same (and "/" in the composer searches them).
import { useSignal } from "@preact/signals";
import { insertIntoComposer, send, showError } from "../actions";
import { _ } from "../i18n";
import { quickAnswers, type QuickAnswer } from "../store";

// The drag's own type: only a quick answer dropped on the conversation sends itself.
export const QUICK_ANSWER_TYPE = "application/x-branchline-quick-answer";

export function matching(query: string): QuickAnswer[] {
  const wanted = query.trim().toLocaleLowerCase();
  return quickAnswers.value.filter((a) => !wanted || `${a.category} ${a.title} ${a.body}`.toLocaleLowerCase().includes(wanted));
}

export function QuickAnswers({ conversationId, canReply }: { conversationId: number; canReply: boolean }) {
  const query = useSignal("");
  const found = matching(query.value);
  const categories = [...new Set(found.map((a) => a.category))];
  return (
    <section class="quick-answers" id="quick-answers" aria-labelledby="quick-answers-title">
      <h3 id="quick-answers-title">{_("Quick answers")}</h3>
      <p class="hint">{canReply ? _("Drag one into your reply to edit it, or onto the conversation to send it now.")
                                : _("Quick answers can be sent while the conversation is in progress.")}</p>
      <input type="search" id="quick-answer-search" placeholder={_("Search quick answers")} value={query.value}
             aria-label={_("Search quick answers")} onInput={(e) => { query.value = e.currentTarget.value; }} />
      {categories.map((category) => (
        <div class="quick-category" key={category}>
          <h4>{category}</h4>
          <ul class="plain">
            {found.filter((a) => a.category === category).map((a) => (
              <li key={a.id} class="quick-answer" data-id={a.id} draggable={canReply}
                  onDragStart={(e) => {
                    e.dataTransfer!.setData(QUICK_ANSWER_TYPE, String(a.id));
                    e.dataTransfer!.setData("text/plain", a.body); // a text box takes it where it is dropped
                    e.dataTransfer!.effectAllowed = "copy";
                  }}>
                <span class="quick-title">{a.title}</span>
                <span class="quick-body">{a.body}</span>
                {canReply && (
                  <span class="quick-buttons">
                    <button type="button" class="link-button" data-insert={a.id} onClick={() => insertIntoComposer(a.body)}>
                      {_("Insert")}
                    </button>
                    <button type="button" class="link-button" data-send={a.id}
                            onClick={() => { send(conversationId, a.body, "public").catch(showError); }}>
                      {_("Send")}
                    </button>
                  </span>
                )}
              </li>
            ))}
          </ul>
        </div>
      ))}
      {!found.length && <p class="hint">{quickAnswers.value.length ? _("None match.") : _("Your administrators have defined none yet.")}</p>}
    </section>
  );
}
