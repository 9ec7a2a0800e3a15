// How long the audit trail is kept, and how far the retention task has pruned it;
// administrators may change it (never below the deployment's minimum).
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { _, format } from "../console/i18n";
import { loadRetention, retention, setRetention } from "./trail";

export function Retention({ canSet }: { canSet: boolean }) {
  const editing = useSignal(false);
  const problem = useSignal("");
  const forever = useSignal(true);
  const opened = useSignal(false);
  useEffect(() => { loadRetention().catch((e: Error) => { problem.value = e.message; }); }, []);
  // Keyboard focus follows the form: into its chosen option when it opens, back to "Change" when it closes.
  useEffect(() => {
    if (editing.value) {
      opened.value = true;
      document.querySelector<HTMLInputElement>(".retention-form input[name=keep]:checked")?.focus();
    } else if (opened.value) {
      document.getElementById("retention-change")?.focus();
    }
  }, [editing.value]);
  const r = retention.value;
  if (!r) return <p class="notice" role="alert">{problem.value}</p>;
  const kept = r.retention_days === null ? _("Kept forever.") : format("Kept for %s days.", r.retention_days);
  const pruned = r.pruned_through_seq ? format("Records up to #%s have been pruned.", r.pruned_through_seq) : "";
  const save = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    try {
      await setRetention(form.get("keep") === "forever" ? null : Number(form.get("days")));
      problem.value = "";
      editing.value = false;
    } catch (error) {
      problem.value = (error as Error).message;
    }
  };
  return (
    <section class="audit-retention" id="audit-retention" aria-labelledby="retention-title">
      <h3 id="retention-title">{_("Retention")}</h3>
      <p><span id="retention-kept">{kept}</span> {pruned}</p>
      {canSet && !editing.value && (
        <button type="button" class="link-button" id="retention-change"
                onClick={() => { forever.value = r.retention_days === null; editing.value = true; }}>
          {_("Change")}
        </button>
      )}
      {canSet && editing.value && (
        <form class="retention-form" onSubmit={save}>
          <fieldset>
            <legend>{_("Keep the audit trail")}</legend>
            <label>
              <input type="radio" name="keep" value="days" id="retention-keep-days" checked={!forever.value}
                     onChange={() => { forever.value = false; }} />
              {format("for this many days (at least %s):", r.minimum_days)}
            </label>
            <input id="retention-days" name="days" type="number" min={r.minimum_days} max="36500" required={!forever.value}
                   aria-label={_("Days")} defaultValue={String(r.retention_days ?? r.minimum_days)}
                   onFocus={() => { forever.value = false; }} onInput={() => { forever.value = false; }} />
            <label>
              <input type="radio" name="keep" value="forever" id="retention-forever" checked={forever.value}
                     onChange={() => { forever.value = true; }} />
              {_("forever")}
            </label>
          </fieldset>
          <button type="submit" class="button primary" id="retention-save">{_("Save")}</button>
          <button type="button" class="button" onClick={() => { editing.value = false; }}>{_("Cancel")}</button>
        </form>
      )}
      <p class="notice" role="alert" id="retention-problem">{problem.value}</p>
    </section>
  );
}
