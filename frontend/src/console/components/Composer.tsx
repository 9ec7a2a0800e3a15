// The writing box: a reply to the customer or an internal note (a switch of two radio
// buttons: arrow keys move between them). Enter sends, Shift+Enter starts a new line. Never
// cuts a text: near the server's limit a counter shows, and a text over it is refused with a
// clear message. A note can be added when a reply cannot (an ended conversation).
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { lengthStatus } from "@widget/text.js";
import { composerError, send, typed } from "../actions";
import { _, format } from "../i18n";
import type { Visibility } from "../store";

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
                  onKeyDown={(e) => {
                    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); e.currentTarget.form!.requestSubmit(); }
                  }} />
        <button type="submit" class="button primary" id="send">{_(words.send)}</button>
      </div>
      <p id="body-counter" class={`counter${length.over ? " over" : ""}`} aria-live="polite" hidden={!length.show}>
        {length.show ? format("%s / %s characters", length.length, maxChars) : ""}
      </p>
      <p class="form-error" id="composer-error" role="alert">{composerError.value}</p>
    </form>
  );
}
