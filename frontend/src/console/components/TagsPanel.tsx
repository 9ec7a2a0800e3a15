// The conversation's tags, in the interaction panel: its chips (× takes one off), and a field
// to put one on, chosen from the line's list (supervisors may name a new one).
import { useSignal } from "@preact/signals";
import { tagByName, untag } from "../actions";
import { _, format } from "../i18n";
import { createsTags, tags, type Conversation } from "../store";

export function TagsPanel({ c, mayTag }: { c: Conversation; mayTag: boolean }) {
  const name = useSignal("");
  const error = useSignal("");
  const add = async (e: Event) => {
    e.preventDefault();
    if (!name.value.trim()) return;
    error.value = "";
    try {
      await tagByName(c.id, name.value);
      name.value = "";
    } catch (failure) {
      error.value = failure instanceof Error ? failure.message : String(failure);
    }
  };
  return (
    <section class="tags-panel" id="tags-panel" aria-labelledby="tags-title">
      <h3 id="tags-title">{_("Tags")}</h3>
      <ul class="plain tag-chips" id="tag-chips">
        {c.tags.map((t) => (
          <li key={t.id} class="tag-chip" data-id={t.id}>
            {t.name}
            {mayTag && (
              <button type="button" class="chip-remove" aria-label={format("Take off the tag %s", t.name)}
                      onClick={() => { untag(c.id, t.id).catch((f: Error) => { error.value = f.message; }); }}>×</button>
            )}
          </li>
        ))}
        {!c.tags.length && <li class="hint">{_("No tags yet.")}</li>}
      </ul>
      {mayTag && (
        <form class="tag-add" onSubmit={add}>
          <label for="tag-name" class="visually-hidden">{_("Add a tag")}</label>
          <input id="tag-name" list="tag-options" maxLength={50} value={name.value}
                 placeholder={createsTags.value ? _("A tag, or a new one") : _("A tag")}
                 onInput={(e) => { name.value = e.currentTarget.value; }} />
          <datalist id="tag-options">
            {tags.value.filter((t) => !c.tags.some((on) => on.id === t.id)).map((t) => <option key={t.id} value={t.name} />)}
          </datalist>
          <button type="submit" class="button" id="tag-add">{_("Add")}</button>
        </form>
      )}
      <p class="form-error" id="tag-error" role="alert">{error.value}</p>
    </section>
  );
}
