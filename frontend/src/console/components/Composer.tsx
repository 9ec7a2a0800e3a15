// The writing box: a reply to the customer or an internal note (a switch of two radio
// buttons: arrow keys move between them). Enter sends, Shift+Enter starts a new line. Never
// cuts a text: near the server's limit a counter shows, and a text over it is refused with a
// clear message. A note can be added when a reply cannot (an ended conversation).
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { lengthStatus } from "@widget/text.js";
import { composerError, send, typed } from "../actions";
import { _, format } from "../i18n";
import { composerInsert, type Visibility } from "../store";
import { EmojiPicker } from "./EmojiPicker";
import { matching } from "./QuickAnswers";

const WORDING = {
  public: {
    label: "Your reply", placeholder: "Write a reply…", send: "Send", empty: "Write a reply first.",
    tooLong: "Your reply is %s characters long; the limit is %s. Shorten it to send it.",
  },
  staff: {
    label: "Your internal note", placeholder: "Write an internal note: only staff see it…", send: "Add note",
    empty: "Write a note first.", tooLong: "Your note is %s characters long; the limit is %s. Shorten it to add it.",
  },
} as const;

export function Composer({ conversationId, maxChars, canReply }: {
  conversationId: number;
  maxChars: number;
  canReply: boolean;
}) {
  const body = useSignal("");
  const chosen = useSignal<Visibility>("public");
  const mode: Visibility = canReply ? chosen.value : "staff";
  const words = WORDING[mode];
  const box = useRef<HTMLTextAreaElement>(null);
  const length = lengthStatus(body.value, maxChars);

  useEffect(() => box.current?.focus(), [conversationId]);

  // A quick answer inserted ("Insert", or chosen after "/"): at the caret, to edit before sending.
  const inserted = composerInsert.value;
  useEffect(() => {
    if (inserted === null) return;
    composerInsert.value = null;
    const el = box.current;
    const slash = body.value.startsWith("/") ? body.value.length : null; // "/words" is replaced whole
    const [start, end] = slash !== null ? [0, slash] : [el?.selectionStart ?? body.value.length, el?.selectionEnd ?? body.value.length];
    body.value = body.value.slice(0, start) + inserted + body.value.slice(end);
    requestAnimationFrame(() => { el?.focus(); el?.setSelectionRange(start + inserted.length, start + inserted.length); });
  }, [inserted]);

  // "/" then words: the quick answers that match, chosen with the arrow keys and Enter.
  const slashQuery = mode === "public" && body.value.startsWith("/") && !body.value.includes("\n") ? body.value.slice(1) : null;
  const suggestions = slashQuery === null ? [] : matching(slashQuery).slice(0, 6);
  const highlighted = useSignal(0);
  const pick = Math.min(highlighted.value, Math.max(0, suggestions.length - 1));

  const submit = async (e: Event) => {
    e.preventDefault();
    const text = body.value.trim();
    if (!text) {
      composerError.value = _(words.empty);
      return;
    }
    if (length.over) {
      composerError.value = format(words.tooLong, length.length, maxChars);
      return;
    }
    body.value = "";
    try {
      await send(conversationId, text, mode);
    } catch {
      if (!body.value) body.value = text; // give the text back to fix or resend
    }
  };

  const option = (value: Visibility, label: string, disabled = false) => (
    <label class={`mode-option${mode === value ? " on" : ""}${disabled ? " disabled" : ""}`}>
      <input type="radio" name="composer-mode" value={value} id={`mode-${value}`} checked={mode === value}
             disabled={disabled} onChange={() => { chosen.value = value; composerError.value = ""; box.current?.focus(); }} />
      {label}
    </label>
  );

  return (
    <form id="composer" class={`composer${mode === "staff" ? " note-mode" : ""}`} autocomplete="off" onSubmit={submit}>
      <fieldset class="mode">
        <legend class="visually-hidden">{_("Write")}</legend>
        {option("public", _("Reply to customer"), !canReply)}
        {option("staff", _("Internal note"))}
        <span class="mode-hint" id="mode-hint">
          {mode === "staff" ? _("Only staff see notes; the customer does not.")
                            : canReply ? "" : _("This conversation is not in progress: notes only.")}
        </span>
      </fieldset>
      <div class="composer-row">
        <label for="body" class="visually-hidden">{_(words.label)}</label>
        <textarea id="body" ref={box} rows={2} placeholder={_(words.placeholder)} value={body.value}
                  aria-describedby="mode-hint body-counter composer-error" aria-invalid={length.over || undefined}
                  onInput={(e) => { body.value = e.currentTarget.value; if (mode === "public") typed(conversationId); }}
                  aria-autocomplete="list" aria-controls={suggestions.length ? "quick-suggestions" : undefined}
                  aria-activedescendant={suggestions.length ? `quick-suggestion-${suggestions[pick].id}` : undefined}
                  onKeyDown={(e) => {
                    if (suggestions.length && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
                      e.preventDefault();
                      highlighted.value = (pick + (e.key === "ArrowDown" ? 1 : suggestions.length - 1)) % suggestions.length;
                    } else if (suggestions.length && e.key === "Enter" && !e.shiftKey) {
                      e.preventDefault();
                      composerInsert.value = suggestions[pick].body;
                      highlighted.value = 0;
                    } else if (suggestions.length && e.key === "Escape") {
                      body.value = "";
                    } else if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); e.currentTarget.form!.requestSubmit(); }
                  }} />
        <EmojiPicker />
        <button type="submit" class="button primary" id="send">{_(words.send)}</button>
      </div>
      {suggestions.length > 0 && (
        <ul class="quick-suggestions" id="quick-suggestions" role="listbox" aria-label={_("Quick answers")}>
          {suggestions.map((a, i) => (
            <li key={a.id} id={`quick-suggestion-${a.id}`} role="option" aria-selected={i === pick}
                onMouseDown={(e) => { e.preventDefault(); composerInsert.value = a.body; }}>
              <strong>{a.title}</strong> <span class="hint">{a.category}</span>
            </li>
          ))}
        </ul>
      )}
      <p id="body-counter" class={`counter${length.over ? " over" : ""}`} aria-live="polite" hidden={!length.show}>
        {length.show ? format("%s / %s characters", length.length, maxChars) : ""}
      </p>
      <p class="form-error" id="composer-error" role="alert">{composerError.value}</p>
    </form>
  );
}
