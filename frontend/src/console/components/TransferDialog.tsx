// "Transfer": who may receive the conversation (staff of its line granted its channel), with a
// note for them.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { transfer, transferCandidates } from "../actions";
import { _, format, N_ } from "../i18n";
import type { Candidate, Conversation } from "../store";
import { ActionDialog } from "./ActionDialog";

const ROLES: Record<string, string> = { agent: N_("Agent"), supervisor: N_("Supervisor") };

export function TransferDialog({ c, onClose }: { c: Conversation; onClose: () => void }) {
  const candidates = useSignal<Candidate[] | null>(null);
  const chosen = useSignal<number | null>(null);
  const note = useSignal("");
  const failed = useSignal("");

  useEffect(() => {
    transferCandidates(c.id).then((list) => {
      candidates.value = list;
      chosen.value = list[0]?.id ?? null;
      requestAnimationFrame(() => document.querySelector<HTMLElement>("input[name=transfer-to]:checked")?.focus());
    }, (e: Error) => { candidates.value = []; failed.value = e.message; });
  }, [c.id]);

  const submit = async () => {
    const to = candidates.value?.find((x) => x.id === chosen.value);
    if (!to) throw new Error(_("Choose who receives the conversation."));
    await transfer(c.id, to, note.value);
  };

  const list = candidates.value;
  return (
    <ActionDialog id="transfer" title={_("Transfer conversation")} confirm={_("Transfer")} firstField="#transfer-note"
                  onClose={onClose} onSubmit={submit} disabled={!list?.length}
                  description={format("The colleague you choose handles the conversation with %s from now on; the customer sees only that they joined.",
                                      c.customer.name)}>
      <fieldset class="candidates">
        <legend>{_("Transfer to")}</legend>
        {list === null ? <p class="hint">{_("Loading…")}</p>
          : list.length === 0 ? <p class="hint">{failed.value || _("Nobody else can take this conversation right now.")}</p>
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
    </ActionDialog>
  );
}
