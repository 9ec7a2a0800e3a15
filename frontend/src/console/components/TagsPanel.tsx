// The conversation's tags, in the interaction panel: its chips (× takes one off), a choice of
// the line's other tags to put on, and (supervisors, administrators) a new tag by name.
import { useSignal } from "@preact/signals";
import { tagByName, untag } from "../actions";
import { _, format } from "../i18n";
import { createsTags, tags, type Conversation } from "../store";

export function TagsPanel({ c, mayTag }: { c: Conversation; mayTag: boolean }) {
  const chosen = useSignal("");
  const fresh = useSignal("");
  const error = useSignal("");
  const others = tags.value.filter((t) => !c.tags.some((on) => on.id === t.id));
  const put = async (name: string, done: () => void) => {
    if (!name.trim()) return;
    error.value = "";
    try {
      await tagByName(c.id, name);
      done();
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
        <form class="tag-add" onSubmit={(e) => { e.preventDefault(); void put(chosen.value, () => { chosen.value = ""; }); }}>
          <label for="tag-choice" class="visually-hidden">{_("Add a tag")}</label>
          <select id="tag-choice" value={chosen.value} onChange={(e) => { chosen.value = e.currentTarget.value; }}>
            <option value="">{_("Add a tag…")}</option>
            {others.map((t) => <option key={t.id} value={t.name}>{t.name}</option>)}
          </select>
          <button type="submit" class="button" id="tag-add" disabled={!chosen.value}>{_("Add")}</button>
        </form>
      )}
      {mayTag && createsTags.value && (
        <form class="tag-add" onSubmit={(e) => { e.preventDefault(); void put(fresh.value, () => { fresh.value = ""; }); }}>
          <label for="tag-new" class="visually-hidden">{_("A new tag")}</label>
          <input id="tag-new" maxLength={50} placeholder={_("A new tag")} value={fresh.value}
                 onInput={(e) => { fresh.value = e.currentTarget.value; }} />
          <button type="submit" class="button" id="tag-create" disabled={!fresh.value.trim()}>{_("Create")}</button>
        </form>
      )}
      <p class="form-error" id="tag-error" role="alert">{error.value}</p>
    </section>
  );
}
