// "Transfer": a modal dialog (the browser's own <dialog>: the page behind is inert, so focus
// stays inside; Esc closes) listing who may receive the conversation, with a note for them.
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { transfer, transferCandidates } from "../actions";
import { _, format } from "../i18n";
import type { Candidate, Conversation } from "../store";
import { keepFocusInside } from "./dialog";

const ROLES: Record<string, string> = { agent: "Agent", supervisor: "Supervisor" };

export function TransferDialog({ c, onClose }: { c: Conversation; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const candidates = useSignal<Candidate[] | null>(null);
  const chosen = useSignal<number | null>(null);
  const note = useSignal("");
  const error = useSignal("");
  const busy = useSignal(false);

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    dialog.current!.showModal();
    transferCandidates(c.id).then((list) => {
      candidates.value = list;
      chosen.value = list[0]?.id ?? null;
      requestAnimationFrame(() => dialog.current?.querySelector<HTMLElement>("input[name=transfer-to]:checked")?.focus());
    }, (e: Error) => { candidates.value = []; error.value = e.message; });
    return () => opener?.focus(); // back to the button that opened it
  }, [c.id]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const to = candidates.value?.find((x) => x.id === chosen.value);
    if (!to) {
      error.value = _("Choose who receives the conversation.");
      return;
    }
    busy.value = true;
    error.value = "";
    try {
      await transfer(c.id, to, note.value);
      onClose();
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
      busy.value = false;
    }
  };

  const list = candidates.value;
  return (
    <dialog ref={dialog} id="transfer-dialog" class="dialog" aria-labelledby="transfer-title"
            aria-describedby="transfer-desc" onKeyDown={keepFocusInside} onCancel={(e) => { e.preventDefault(); onClose(); }}>
      <form class="stack" onSubmit={submit}>
        <h2 id="transfer-title">{_("Transfer conversation")}</h2>
        <p class="hint" id="transfer-desc">
          {format("The colleague you choose handles the conversation with %s from now on; the customer sees only that they joined.",
                  c.customer.name)}
        </p>
        <fieldset class="candidates">
          <legend>{_("Transfer to")}</legend>
          {list === null ? <p class="hint">{_("Loading…")}</p>
            : list.length === 0 ? <p class="hint">{_("Nobody else can take this conversation right now.")}</p>
            : (
              <ul class="plain candidate-list">
                {list.map((x) => (
                  <li key={x.id}>
                    <label class="candidate">
                      <input type="radio" name="transfer-to" value={x.id} checked={chosen.value === x.id}
                             onChange={() => { chosen.value = x.id; }} />
                      <span class="name">{x.name}</span>
                      <span class="role">{_(ROLES[x.role] ?? x.role)}</span>
                    </label>
                  </li>
                ))}
              </ul>
            )}
        </fieldset>
        <label for="transfer-note">{_("Note for the receiver")} <span class="hint">({_("only staff see it")})</span></label>
        <textarea id="transfer-note" rows={3} value={note.value} onInput={(e) => { note.value = e.currentTarget.value; }} />
        <p class="form-error" id="transfer-error" role="alert">{error.value}</p>
        <div class="dialog-buttons">
          <button type="button" class="button" id="transfer-cancel" onClick={onClose}>{_("Cancel")}</button>
          <button type="submit" class="button primary" id="transfer-confirm" disabled={busy.value || !list?.length}>
            {_("Transfer")}
          </button>
        </div>
      </form>
    </dialog>
  );
}
