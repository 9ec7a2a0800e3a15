import { csrfToken } from "../../api/client";
import { alerts, setAlerts } from "../attention";
import { _ } from "../i18n";
import { helpShown } from "../shortcuts";
import { connection, handles, me } from "../store";

const STATUS = { connecting: "Connecting…", online: "Connected", offline: "Reconnecting…" } as const;

interface Links { roleLabel: string; signOutUrl: string; auditUrl: string; adminUrl: string }

export function Header({ roleLabel, signOutUrl, auditUrl, adminUrl }: Links) {
  const status = connection.value;
  return (
    <header class="console-header">
      <h1 class="brand">Branchline</h1>
      <span class={`status ${status}`} id="status" role="status">{_(STATUS[status])}</span>
      {(auditUrl || adminUrl) && (
        <nav aria-label={_("Console")} class="console-links">
          {auditUrl && <a class="link-button" id="audit-link" href={auditUrl}>{_("Audit trail")}</a>}
          {adminUrl && <a class="link-button" id="admin-link" href={adminUrl}>{_("Administration")}</a>}
        </nav>
      )}
      {handles.value && (
        <button type="button" class="link-button" id="alerts-toggle" aria-pressed={alerts.value}
                title={_("Sound and desktop notifications for new conversations and messages")}
                onClick={() => setAlerts(!alerts.value)}>
          {alerts.value ? _("Notifications on") : _("Notifications off")}
        </button>
      )}
      <button type="button" class="link-button" id="shortcuts-link" aria-haspopup="dialog"
              onClick={() => { helpShown.value = true; }}>{_("Shortcuts")}</button>
      <span class="me">{me.value.name} · {roleLabel}</span>
      <form method="post" action={signOutUrl} id="sign-out">
        <input type="hidden" name="csrfmiddlewaretoken" value={csrfToken()} />
        <button class="link-button" type="submit">{_("Sign out")}</button>
      </form>
    </header>
  );
}
