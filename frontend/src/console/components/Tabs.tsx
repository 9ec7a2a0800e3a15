// WAI-ARIA tabs: one tab stop, arrow keys (and Home/End) move and select. Each tab is
// `${prefix}-${id}` and controls `panel(id)`.
import type { ComponentChildren } from "preact";

export interface TabItem<T extends string> {
  id: T;
  label: string;
  after?: ComponentChildren; // shown after the label (a count)
}

const STEPS: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1 };

export function Tabs<T extends string>({ label, prefix, items, selected, panel, onSelect, class: className = "tabs" }: {
  label: string;
  prefix: string;
  items: TabItem<T>[];
  selected: T;
  panel: (id: T) => string;
  onSelect: (id: T) => void;
  class?: string;
}) {
  const onKeyDown = (e: KeyboardEvent) => {
    const index = items.findIndex((t) => t.id === selected);
    const to = e.key === "Home" ? 0 : e.key === "End" ? items.length - 1
      : e.key in STEPS ? (index + STEPS[e.key] + items.length) % items.length : -1;
    if (to < 0) return;
    e.preventDefault();
    onSelect(items[to].id);
    document.getElementById(`${prefix}-${items[to].id}`)?.focus();
  };
  return (
    <div class={className} role="tablist" aria-label={label} onKeyDown={onKeyDown}>
      {items.map((t) => {
        const on = t.id === selected;
        return (
          <button role="tab" type="button" id={`${prefix}-${t.id}`} key={t.id} aria-controls={panel(t.id)}
                  aria-selected={on} tabIndex={on ? 0 : -1} data-state={t.id} onClick={() => onSelect(t.id)}>
            {t.label}{t.after}
          </button>
        );
      })}
    </div>
  );
}
