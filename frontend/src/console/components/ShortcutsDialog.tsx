// The keyboard shortcuts, listed ("?" or the header's button opens it).
import { useEffect, useRef } from "preact/hooks";
import { _ } from "../i18n";
import { SHORTCUTS, helpShown } from "../shortcuts";
import { keepFocusInside } from "./dialog";

export function ShortcutsDialog() {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    dialog.current!.showModal();
    return () => opener?.focus();
  }, []);
  const close = () => { helpShown.value = false; };
  return (
    <dialog ref={dialog} id="shortcuts-dialog" class="dialog" aria-labelledby="shortcuts-title" onKeyDown={keepFocusInside}
            onCancel={(e) => { e.preventDefault(); close(); }}>
      <h2 id="shortcuts-title">{_("Keyboard shortcuts")}</h2>
      <table class="shortcuts">
        <tbody>
          {SHORTCUTS.map(([keys, what]) => (
            <tr key={keys}><th scope="row"><kbd>{keys}</kbd></th><td>{_(what)}</td></tr>
          ))}
        </tbody>
      </table>
      <div class="dialog-buttons">
        <button type="button" class="button primary" id="shortcuts-close" onClick={close}>{_("Close")}</button>
      </div>
    </dialog>
  );
}
