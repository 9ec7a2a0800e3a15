import { chooseLanguage, currentLanguage, languageChoices } from "@widget/language.js";
import { csrfToken } from "../../api/client";
import { alerts, setAlerts } from "../attention";
import { _, N_ } from "../i18n";
import { helpShown } from "../shortcuts";
import { connection, handles, me } from "../store";

const STATUS = { connecting: N_("Connecting…"), online: N_("Connected"), offline: N_("Reconnecting…") } as const;

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
      <label for="language" class="visually-hidden">{_("Language")}</label>
      <select id="language" class="language-menu" value={currentLanguage()}
              onChange={(e) => chooseLanguage(e.currentTarget.value)}>
        {languageChoices().map(({ code, name }) => <option key={code} value={code} lang={code}>{name}</option>)}
      </select>
      <span class="me">{me.value.name} · {roleLabel}</span>
      <form method="post" action={signOutUrl} id="sign-out">
        <input type="hidden" name="csrfmiddlewaretoken" value={csrfToken()} />
        <button class="link-button" type="submit">{_("Sign out")}</button>
      </form>
    </header>
  );
}
