// The writing box: a reply to the customer or an internal note (a switch of two radio
// buttons: arrow keys move between them). Enter sends, Shift+Enter starts a new line. Never
// cuts a text: near the server's limit a counter shows, and a text over it is refused with a
// clear message. A note can be added when a reply cannot (an ended conversation).
// Files (picked or recorded) and the agent's place go as far as the channel carries them
// (docs/protocol.md §16); a note may carry any allowed file: it never leaves the bank.
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { acceptFor, canRecord, carriesFiles, formatSize, VoiceRecorder } from "@widget/files.js";
import { lengthStatus } from "@widget/text.js";
import { composerError, currentPlace, send, typed } from "../actions";
import { _, format, N_ } from "../i18n";
import { composerInsert, type Visibility } from "../store";
import { EmojiPicker } from "./EmojiPicker";
import { Icon } from "./Icon";
import { matching } from "./QuickAnswers";

const WORDING = {
  public: {
    label: N_("Your reply"), placeholder: N_("Write a reply…"), send: N_("Send"), empty: N_("Write a reply first."),
    tooLong: N_("Your reply is %s characters long; the limit is %s. Shorten it to send it."),
  },
  staff: {
    label: N_("Your internal note"), placeholder: N_("Write an internal note: only staff see it…"), send: N_("Add note"),
    empty: N_("Write a note first."),
    tooLong: N_("Your note is %s characters long; the limit is %s. Shorten it to add it."),
  },
} as const;

const EVERY_FILE = ["document", "image", "audio", "video"];

export function Composer({ conversationId, maxChars, canReply, carries, maxFileMb }: {
  conversationId: number;
  maxChars: number;
  canReply: boolean;
  carries: readonly string[]; // what the conversation's channel carries besides text
  maxFileMb: number;
}) {
  const body = useSignal("");
  const chosen = useSignal<Visibility>("public");
  const mode: Visibility = canReply ? chosen.value : "staff";
  const words = WORDING[mode];
  const box = useRef<HTMLTextAreaElement>(null);
  const length = lengthStatus(body.value, maxChars);
  const file = useSignal<File | null>(null);
  const picker = useRef<HTMLInputElement>(null);
  const recorder = useRef<VoiceRecorder | null>(null);
  const recording = useSignal(false);
  const offered = mode === "staff" ? EVERY_FILE : carries;

  useEffect(() => {
    box.current?.focus();
    file.value = null;
    return () => recorder.current?.cancel();
  }, [conversationId]);

  const attach = (picked: File | null) => {
    composerError.value = "";
    if (picked && picked.size > maxFileMb * 1024 * 1024) {
      composerError.value = format("The file is larger than %s MB.", maxFileMb);
      return;
    }
    file.value = picked;
    box.current?.focus();
  };

  const toggleRecording = async () => {
    composerError.value = "";
    if (recorder.current?.recording) {
      const recorded = await recorder.current.stop();
      recorder.current = null;
      recording.value = false;
      attach(recorded);
      return;
    }
    try {
      recorder.current = new VoiceRecorder();
      await recorder.current.start();
      recording.value = true;
    } catch {
      recorder.current = null;
      composerError.value = _("The microphone cannot be used: allow it in your browser to record.");
    }
  };

  const shareLocation = async () => {
    composerError.value = "";
    try {
      const place = await currentPlace();
      const label = body.value.trim();
      body.value = "";
      await send(conversationId, label, "public", { place });
    } catch (error) {
      composerError.value = error instanceof Error ? error.message : String(error);
    }
  };

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
    const sending = file.value;
    if (!text && !sending) {
      composerError.value = _(words.empty);
      return;
    }
    if (length.over) {
      composerError.value = format(words.tooLong, length.length, maxChars);
      return;
    }
    body.value = "";
    file.value = null;
    try {
      await send(conversationId, text, mode, sending ? { file: sending } : {});
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
        {carriesFiles(offered) && (
          <>
            <input type="file" ref={picker} id="file-input" class="visually-hidden" tabIndex={-1} aria-hidden="true"
                   accept={acceptFor(offered)}
                   onChange={(e) => { attach(e.currentTarget.files?.[0] ?? null); e.currentTarget.value = ""; }} />
            <button type="button" class="icon-button" id="attach" aria-label={_("Attach a file")} title={_("Attach a file")}
                    onClick={() => picker.current?.click()}><Icon name="attach" /></button>
          </>
        )}
        {canRecord(offered) && (
          <button type="button" class="icon-button" id="record" aria-pressed={recording.value}
                  aria-label={recording.value ? _("Stop recording") : _("Record a voice message")}
                  title={recording.value ? _("Stop recording") : _("Record a voice message")}
                  onClick={() => void toggleRecording()}><Icon name={recording.value ? "stop" : "microphone"} /></button>
        )}
        {mode === "public" && carries.includes("location") && (
          <button type="button" class="icon-button" id="share-location" aria-label={_("Share your location")}
                  title={_("Share your location (the text, if any, is its label)")}
                  onClick={() => void shareLocation()}><Icon name="place" /></button>
        )}
        <button type="submit" class="button primary" id="send">{_(words.send)}</button>
      </div>
      {file.value && (
        <p class="attached" id="attached">
          <span><Icon name="attach" /> {file.value.name} · {formatSize(file.value.size)}</span>
          <button type="button" class="link-button" id="attached-remove" onClick={() => attach(null)}>{_("Remove")}</button>
        </p>
      )}
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
