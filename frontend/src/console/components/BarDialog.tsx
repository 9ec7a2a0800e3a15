// "Bar customer": their messages are dropped before they reach anyone (counted), and their
// open conversation ends. Staff read the reason; supervisors lift it on the Contacts page.
import { useSignal } from "@preact/signals";
import { bar } from "../actions";
import { _, format } from "../i18n";
import type { Conversation } from "../store";
import { ActionDialog } from "./ActionDialog";

export function BarDialog({ c, onClose }: { c: Conversation; onClose: () => void }) {
  const reason = useSignal("");
  return (
    <ActionDialog id="bar" title={_("Bar customer")} confirm={_("Bar")} firstField="#bar-reason" onClose={onClose}
                  disabled={!reason.value.trim()}
                  description={format("Messages from %s will reach nobody until a supervisor lifts the bar; their open conversation ends now.",
                                      c.customer.name)}
                  onSubmit={() => bar(c.id, reason.value)}>
      <label for="bar-reason">{_("Reason")} <span class="hint">({_("required; only staff see it")})</span></label>
      <textarea id="bar-reason" rows={3} maxLength={500} required value={reason.value}
                onInput={(e) => { reason.value = e.currentTarget.value; }} />
    </ActionDialog>
  );
}
