// A message's text: http(s) URLs become links that open in a new tab; everything else is
// text (Preact sets it as text, never as HTML).
import { LINK_ATTRIBUTES, linkParts } from "@widget/text.js";

export function MessageText({ text }: { text: string }) {
  return (
    <span class="text">
      {linkParts(text).map((part, i) => (part.href ? <a key={i} href={part.href} {...LINK_ATTRIBUTES}>{part.text}</a> : part.text))}
    </span>
  );
}
