// "Documents" in the interaction panel: every file exchanged in this conversation, or with
// "All attachments" on, in all of this customer's conversations (GET
// /api/staff/conversations/{id}/files). Read again when a file arrives in the conversation.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { formatSize } from "@widget/files.js";
import { api, unwrap } from "../../api/client";
import { _, locale } from "../i18n";
import { selectedThread, type Conversation, type Message } from "../store";
import { fileUrl } from "./FileItem";

const when = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

export function DocumentsPanel({ c }: { c: Conversation }) {
  const all = useSignal(false);
  const items = useSignal<Message[] | null>(null);
  const error = useSignal("");
  const thread = selectedThread.value;
  const filesHere = thread.order.filter((id) => thread.byId.get(id)?.attachment).length;

  useEffect(() => {
    let current = true;
    error.value = "";
    unwrap(api.GET("/api/staff/conversations/{conversation_id}/files",
                   { params: { path: { conversation_id: c.id }, query: { all: all.value } } }))
      .then((found) => { if (current) items.value = found; })
      .catch((failure: Error) => { if (current) error.value = failure.message; });
    return () => { current = false; };
  }, [c.id, all.value, filesHere]);

  return (
    <section class="documents-panel" id="documents-panel" aria-labelledby="documents-title">
      <h3 id="documents-title">{_("Documents")}</h3>
      <label class="toggle">
        <input type="checkbox" id="documents-all" checked={all.value}
               onChange={(e) => { all.value = e.currentTarget.checked; }} />
        {_("All attachments (every conversation of the customer)")}
      </label>
      {error.value && <p class="form-error" role="alert">{error.value}</p>}
      <ul class="plain documents" id="documents">
        {items.value?.map((m) => (
          <li key={m.id} data-conversation={m.conversation_id} class={m.visibility === "staff" ? "staff-only" : ""}>
            <a href={fileUrl(m.attachment!)} download={m.attachment!.name}>{m.attachment!.name}</a>
            <span class="hint">
              {" "}{formatSize(m.attachment!.size, locale)} · {m.sender === "customer" ? _("from the customer") : m.author?.name}
              {" · "}{when.format(new Date(m.created_at))}{m.visibility === "staff" ? ` · ${_("note")}` : ""}
            </span>
          </li>
        ))}
        {items.value && !items.value.length && <li class="hint">{_("No files yet.")}</li>}
      </ul>
    </section>
  );
}
