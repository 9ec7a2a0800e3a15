// A small emoji picker for the reply: the emoji a bank's agents use, chosen by a person, kept
// here (no emoji font or data file to fetch: banks run air-gapped). Each is a named button; Esc
// or a choice closes it, and the choice goes in at the reply's caret.
import { useSignal } from "@preact/signals";
import { insertIntoComposer } from "../actions";
import { _ } from "../i18n";

const EMOJI: [string, string][] = [
  ["🙂", "Slightly smiling face"], ["😊", "Smiling face"], ["😀", "Grinning face"], ["😉", "Winking face"],
  ["🙏", "Folded hands"], ["👍", "Thumbs up"], ["👌", "OK hand"], ["👋", "Waving hand"],
  ["👏", "Clapping hands"], ["🤝", "Handshake"], ["✅", "Check mark"], ["❗", "Exclamation mark"],
  ["❓", "Question mark"], ["⚠️", "Warning"], ["⏳", "Hourglass"], ["📅", "Calendar"],
  ["📄", "Document"], ["📎", "Paperclip"], ["✉️", "Envelope"], ["📞", "Telephone"],
  ["💳", "Credit card"], ["🏦", "Bank"], ["🏠", "House"], ["💶", "Euro banknote"],
  ["🔒", "Lock"], ["🔑", "Key"], ["🎉", "Party popper"], ["☀️", "Sun"],
  ["😔", "Pensive face"], ["😮", "Surprised face"], ["❤️", "Red heart"], ["⭐", "Star"],
];

export function EmojiPicker() {
  const open = useSignal(false);
  return (
    <div class="emoji-picker">
      <button type="button" class="button emoji-toggle" id="emoji-toggle" aria-expanded={open.value}
              aria-controls="emoji-grid" aria-label={_("Emoji")} title={_("Emoji")}
              onClick={() => { open.value = !open.value; }}>🙂</button>
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
