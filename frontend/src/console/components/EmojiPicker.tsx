// A small emoji picker for the reply: the emoji a bank's agents use, chosen by a person, kept
// here (no emoji font or data file to fetch: banks run air-gapped). Each is a named button; Esc
// or a choice closes it, and the choice goes in at the reply's caret.
import { useSignal } from "@preact/signals";
import { insertIntoComposer } from "../actions";
import { _, N_ } from "../i18n";
import { Icon } from "./Icon";

const EMOJI: [string, string][] = [
  ["🙂", N_("Slightly smiling face")], ["😊", N_("Smiling face")], ["😀", N_("Grinning face")], ["😉", N_("Winking face")],
  ["🙏", N_("Folded hands")], ["👍", N_("Thumbs up")], ["👌", N_("OK hand")], ["👋", N_("Waving hand")],
  ["👏", N_("Clapping hands")], ["🤝", N_("Handshake")], ["✅", N_("Check mark")], ["❗", N_("Exclamation mark")],
  ["❓", N_("Question mark")], ["⚠️", N_("Warning")], ["⏳", N_("Hourglass")], ["📅", N_("Calendar")],
  ["📄", N_("Document")], ["📎", N_("Paperclip")], ["✉️", N_("Envelope")], ["📞", N_("Telephone")],
  ["💳", N_("Credit card")], ["🏦", N_("Bank")], ["🏠", N_("House")], ["💶", N_("Euro banknote")],
  ["🔒", N_("Lock")], ["🔑", N_("Key")], ["🎉", N_("Party popper")], ["☀️", N_("Sun")],
  ["😔", N_("Pensive face")], ["😮", N_("Surprised face")], ["❤️", N_("Red heart")], ["⭐", N_("Star")],
];

export function EmojiPicker() {
  const open = useSignal(false);
  return (
    <div class="emoji-picker">
      <button type="button" class="button emoji-toggle" id="emoji-toggle" aria-expanded={open.value}
              aria-controls="emoji-grid" aria-label={_("Emoji")} title={_("Emoji")}
              onClick={() => { open.value = !open.value; }}><Icon name="smile" /></button>
      {open.value && (
        <div class="emoji-grid" id="emoji-grid" role="group" aria-label={_("Emoji")}
             onKeyDown={(e) => { if (e.key === "Escape") { open.value = false; document.getElementById("emoji-toggle")?.focus(); } }}>
          {EMOJI.map(([emoji, name]) => (
            <button type="button" key={emoji} class="emoji" aria-label={_(name)} title={_(name)}
                    onClick={() => { open.value = false; insertIntoComposer(emoji); }}>{emoji}</button>
          ))}
        </div>
      )}
    </div>
  );
}
