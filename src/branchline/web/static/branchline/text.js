// Message text rules shared by the widget (chat.js, render.js) and the console (frontend/
// imports this file): the length limit as the server counts it, and the web links in a text.

const CANDIDATE = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING = new Set([".", ",", ";", ":", "!", "?", "'", '"', ")", "]", "}", "*", "_"]);

function count(text, char) {
  return text.split(char).length - 1;
}

// A sentence's punctuation after a URL is not part of it; a ")" that closes a "(" inside
// the URL is (https://en.wikipedia.org/wiki/Bank_(disambiguation)).
function trimTrailing(url) {
  while (url && TRAILING.has(url.at(-1))) {
    if (url.at(-1) === ")" && count(url, "(") >= count(url, ")")) break;
    url = url.slice(0, -1);
  }
  return url;
}

// The text in order, as parts; parts with `href` are links. Only http: and https: URLs become
// links: every other scheme (javascript:, data:, …) stays text. The parts are data, never
// HTML: callers build text nodes and <a> elements from them.
/** @returns {{text: string, href?: string}[]} */
export function linkParts(text) {
  const parts = [];
  let end = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    const url = trimTrailing(match[0]);
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      continue;
    }
    if ((parsed.protocol !== "http:" && parsed.protocol !== "https:") || !parsed.hostname) continue;
    if (match.index > end) parts.push({ text: text.slice(end, match.index) });
    parts.push({ text: url, href: parsed.href });
    end = match.index + url.length;
  }
  if (end < text.length) parts.push({ text: text.slice(end) });
  return parts;
}

/** The attributes every message link carries: a new tab that cannot reach back to us. */
export const LINK_ATTRIBUTES = Object.freeze({ rel: "noopener noreferrer", target: "_blank" });

// The server's limit (docs/protocol.md §4): characters after trimming, counted in Unicode
// code points (an emoji is 1), unlike JavaScript's `length`.
export function messageLength(body) {
  return [...body.trim()].length;
}

// The composer shows a counter from this share of the limit on.
export const COUNTER_FROM = 0.9;

/** What the composer says about a draft's length: {length, max, show, over}. */
export function lengthStatus(body, max) {
  const length = messageLength(body);
  return { length, max, show: length >= Math.floor(max * COUNTER_FROM), over: length > max };
}
