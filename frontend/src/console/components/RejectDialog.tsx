// "Reject": the conversation ends as a duplicate, spam, abuse or for another reason (which
// needs a note). Staff read why; the customer reads only that it has ended.
import { useSignal } from "@preact/signals";
import { reject, type Rejection } from "../actions";
import { _, format, N_ } from "../i18n";
import type { Conversation } from "../store";
import { ActionDialog } from "./ActionDialog";

export const REJECTIONS: [Rejection, string][] = [
  ["duplicate", N_("A duplicate")], ["spam", N_("Spam")], ["abuse", N_("Abusive")], ["other", N_("Another reason")],
];

export function RejectDialog({ c, onClose }: { c: Conversation; onClose: () => void }) {
  const chosen = useSignal<Rejection>("duplicate");
  const note = useSignal("");
  return (
    <ActionDialog id="reject" title={_("Reject conversation")} confirm={_("Reject")}
                  firstField="input[name=rejection]:checked" onClose={onClose}
                  description={format("The conversation with %s ends; they see only that it has ended.", c.customer.name)}
                  onSubmit={() => reject(c.id, chosen.value, note.value)}>
      <fieldset class="candidates">
        <legend>{_("Why")}</legend>
        <ul class="plain candidate-list">
          {REJECTIONS.map(([value, label]) => (
            <li key={value}>
              <label class="candidate">
                <input type="radio" name="rejection" value={value} checked={chosen.value === value}
                       onChange={() => { chosen.value = value; }} />
                <span class="name">{_(label)}</span>
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
      <label for="reject-note">
        {_("Note")} <span class="hint">({chosen.value === "other" ? _("required") : _("only staff see it")})</span>
      </label>
      <textarea id="reject-note" rows={3} required={chosen.value === "other"} value={note.value}
                onInput={(e) => { note.value = e.currentTarget.value; }} />
    </ActionDialog>
  );
}
