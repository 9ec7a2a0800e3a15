// "Move to queue": the conversation waits in another queue of the line, for any agent enabled
// there; a note travels on the staff-only line that names the queue (docs/protocol.md §12).
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { loadQueues, moveToQueue } from "../actions";
import { _, format } from "../i18n";
import { queues, type Conversation } from "../store";
import { ActionDialog } from "./ActionDialog";

export function QueueDialog({ c, onClose }: { c: Conversation; onClose: () => void }) {
  const others = queues.value.filter((q) => q.id !== c.queue.id || c.state !== "waiting");
  const chosen = useSignal<number | null>(others[0]?.id ?? null);
  const note = useSignal("");
  useEffect(() => { if (!queues.value.length) void loadQueues(); }, []);
  useEffect(() => { if (chosen.value === null && others.length) chosen.value = others[0].id; }, [others.length]);

  return (
    <ActionDialog id="queue" title={_("Move to queue")} confirm={_("Move")} firstField="#queue-to" onClose={onClose}
                  disabled={chosen.value === null}
                  description={format("The conversation waits there for any agent of that queue; %s sees only that they wait.",
                                      c.customer.name)}
                  onSubmit={() => moveToQueue(c.id, chosen.value!, note.value)}>
      <label for="queue-to">{_("Queue")}</label>
      <select id="queue-to" value={chosen.value ?? ""} onChange={(e) => { chosen.value = Number(e.currentTarget.value); }}>
        {others.map((q) => (
          <option key={q.id} value={q.id}>{q.name}{q.id === c.queue.id ? ` (${_("current")})` : ""}</option>
        ))}
      </select>
      <label for="queue-note">{_("Note")} <span class="hint">({_("only staff see it")})</span></label>
      <textarea id="queue-note" rows={3} value={note.value} onInput={(e) => { note.value = e.currentTarget.value; }} />
    </ActionDialog>
  );
}
