// Keyboard shortcuts for the agent's frequent actions (issue 8). Alt (Option on a Mac) with a
// key, by its position (e.code), so a keyboard layout or Option's special characters do not
// change them. None acts while a dialog is open.
import { signal } from "@preact/signals";
import { accept, end, select, selectTab, showError } from "./actions";
import { _, N_ } from "./i18n";
import * as store from "./store";

export const SHORTCUTS: [string, string][] = [
  ["Alt+↓ / Alt+↑", N_("Next / previous conversation in the list")],
  ["Alt+1 … Alt+4", N_("In progress, Waiting, Ended, Line of business")],
  ["Alt+A", N_("Accept the open conversation")],
  ["Alt+R", N_("Write a reply")],
  ["Alt+E", N_("End the open conversation")],
  ["?", N_("Show these shortcuts")],
];

export const helpShown = signal(false);

function step(by: number): void {
  const list = store.lists.value[store.tab.value];
  if (!list.length) return;
  const at = list.findIndex((c) => c.id === store.selectedId.value);
  const next = list[Math.min(list.length - 1, Math.max(0, at === -1 ? 0 : at + by))];
  void select(next.id).catch(showError);
}

function available(): store.Tab[] {
  const own: store.Tab[] = store.handles.value ? ["active", "waiting", "ended"] : ["waiting"];
  return store.seesWholeLine.value ? [...own, "line"] : own;
}

export function install(): void {
  document.addEventListener("keydown", (e) => {
    if (document.querySelector("dialog[open]")) return;
    const typing = e.target instanceof HTMLElement && e.target.closest("input, textarea, select, [contenteditable]");
    if (!e.altKey) {
      if (e.key === "?" && !typing) { e.preventDefault(); helpShown.value = true; }
      return;
    }
    const c = store.selected.value;
    const tabs: store.Tab[] = ["active", "waiting", "ended", "line"];
    const digit = /^Digit([1-4])$/.exec(e.code);
    if (e.code === "ArrowDown" || e.code === "ArrowUp") step(e.code === "ArrowDown" ? 1 : -1);
    else if (digit && available().includes(tabs[Number(digit[1]) - 1])) selectTab(tabs[Number(digit[1]) - 1]);
    else if (e.code === "KeyA" && c?.state === "waiting" && store.handles.value) void accept(c.id);
    else if (e.code === "KeyR") document.getElementById("body")?.focus();
    else if (e.code === "KeyE" && c?.state === "active" && (store.isMine(c) || store.isSupervisor.value)) {
      if (confirm(_("End this conversation?"))) void end(c.id);
    } else return;
    e.preventDefault();
  });
}
