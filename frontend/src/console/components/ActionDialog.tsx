// A modal form for one action on a conversation (the browser's own <dialog>: the page behind
// is inert, Esc closes, focus stays inside and goes back to the opener): its title, what it
// does, its fields, and a submit that shows the server's refusal in the dialog.
import { useSignal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { _ } from "../i18n";
import { keepFocusInside } from "./dialog";

interface Props {
  id: string; // "queue" gives #queue-dialog, #queue-title, #queue-confirm...
  title: string;
  description: string;
  confirm: string;
  firstField: string; // the selector focused when it opens
  onSubmit: () => Promise<void>;
  onClose: () => void;
  disabled?: boolean;
  children: ComponentChildren;
}

export function ActionDialog({ id, title, description, confirm, firstField, onSubmit, onClose, disabled, children }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const error = useSignal("");
  const busy = useSignal(false);

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    dialog.current!.showModal();
    dialog.current!.querySelector<HTMLElement>(firstField)?.focus();
    return () => opener?.focus();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    busy.value = true;
    error.value = "";
    try {
      await onSubmit();
      onClose();
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
      busy.value = false;
    }
  };

  return (
    <dialog ref={dialog} id={`${id}-dialog`} class="dialog" aria-labelledby={`${id}-title`}
            aria-describedby={`${id}-desc`} onKeyDown={keepFocusInside} onCancel={(e) => { e.preventDefault(); onClose(); }}>
      <form class="stack" onSubmit={submit}>
        <h2 id={`${id}-title`}>{title}</h2>
        <p class="hint" id={`${id}-desc`}>{description}</p>
        {children}
        <p class="form-error" id={`${id}-error`} role="alert">{error.value}</p>
        <div class="dialog-buttons">
          <button type="button" class="button" id={`${id}-cancel`} onClick={onClose}>{_("Cancel")}</button>
          <button type="submit" class="button primary" id={`${id}-confirm`} disabled={busy.value || disabled}>
            {confirm}
          </button>
        </div>
      </form>
    </dialog>
  );
}
