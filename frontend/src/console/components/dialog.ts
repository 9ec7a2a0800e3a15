// Modal dialogs (the browser's own <dialog>: the page behind is inert; Esc closes): keyboard
// focus stays inside them.

// What Tab may reach inside `root`: enabled controls, one radio per group (the checked one).
function tabbable(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>("button, input, textarea, select, a[href]")].filter((el) =>
    !(el as HTMLButtonElement).disabled
    && !(el instanceof HTMLInputElement && el.type === "radio" && !el.checked
         && root.querySelector(`input[name="${el.name}"]:checked`)));
}

// Tab and Shift+Tab go round inside the dialog, never out to the browser around it.
export function keepFocusInside(e: KeyboardEvent): void {
  if (e.key !== "Tab") return;
  const inside = tabbable(e.currentTarget as HTMLElement);
  const [first, last] = [inside[0], inside.at(-1)];
  if (e.shiftKey ? document.activeElement === first : document.activeElement === last) {
    e.preventDefault();
    (e.shiftKey ? last : first)?.focus();
  }
}
