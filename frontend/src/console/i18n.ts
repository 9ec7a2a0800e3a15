// Django's JavaScript catalog (/jsi18n/, loaded by base.html before the bundle) defines
// these globals; every string the console shows goes through them.
declare global {
  function gettext(text: string): string;
  function ngettext(singular: string, plural: string, count: number): string;
  function interpolate(format: string, values: unknown[], named?: boolean): string;
  function pgettext(context: string, text: string): string;
}

export const _ = (text: string) => gettext(text);
// Dates, times and numbers in the reader's language: the page's lang, which the server chose
// from their choice or their browser's (docs/protocol.md §18).
export const locale = document.documentElement.lang || undefined;
// Marks a text to translate where it is defined (a table of labels), translated where shown with
// _(): the extraction (scripts/messages.py) finds it by this name.
export const N_ = <T extends string>(text: T): T => text;
export const format = (text: string, ...values: unknown[]) => interpolate(gettext(text), values);
export const formatN = (singular: string, plural: string, count: number, ...values: unknown[]) =>
  interpolate(ngettext(singular, plural, count), values.length ? values : [count]);

// A conversation's state as staff read it.
const STATES: Record<string, string> = { waiting: N_("Waiting"), active: N_("In progress"), ended: N_("Ended") };
export const stateLabel = (state: string) => gettext(STATES[state] ?? state);

// A span of time, to the minute, as "23 h 5 min" or "40 min", in the reader's language.
export function duration(ms: number): string {
  const minutes = Math.ceil(ms / 60_000);
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (!hours) return interpolate(gettext("%s min"), [rest]);
  return rest ? interpolate(gettext("%s h %s min"), [hours, rest]) : interpolate(gettext("%s h"), [hours]);
}
