// The reply box: Enter sends, Shift+Enter starts a new line. Never cuts a text: near the
// server's limit a counter shows, and a text over it is refused with a clear message.
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { lengthStatus } from "@widget/text.js";
import { composerError, send, typed } from "../actions";
import { _, format } from "../i18n";

export function Composer({ conversationId, maxChars }: { conversationId: number; maxChars: number }) {
  const body = useSignal("");
  const box = useRef<HTMLTextAreaElement>(null);
  const length = lengthStatus(body.value, maxChars);

  useEffect(() => box.current?.focus(), [conversationId]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const text = body.value.trim();
    if (!text) {
      composerError.value = _("Write a reply first.");
      return;
    }
    if (length.over) {
      composerError.value = format("Your reply is %s characters long; the limit is %s. Shorten it to send it.", length.length, maxChars);
      return;
    }
    body.value = "";
    try {
      await send(conversationId, text);
    } catch {
      if (!body.value) body.value = text; // give the text back to fix or resend
    }
  };

  return (
    <form id="composer" class="composer" autocomplete="off" onSubmit={submit}>
      <div class="composer-row">
        <label for="body" class="visually-hidden">{_("Your reply")}</label>
        <textarea id="body" ref={box} rows={2} placeholder={_("Write a reply…")} value={body.value}
                  aria-describedby="body-counter composer-error" aria-invalid={length.over || undefined}
                  onInput={(e) => { body.value = e.currentTarget.value; typed(conversationId); }}
                  onKeyDown={(e) => {
                    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); e.currentTarget.form!.requestSubmit(); }
                  }} />
        <button type="submit" class="button primary" id="send">{_("Send")}</button>
      </div>
      <p id="body-counter" class={`counter${length.over ? " over" : ""}`} aria-live="polite" hidden={!length.show}>
        {length.show ? format("%s / %s characters", length.length, maxChars) : ""}
      </p>
      <p class="form-error" id="composer-error" role="alert">{composerError.value}</p>
    </form>
  );
}
