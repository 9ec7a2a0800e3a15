import { notice } from "../actions";
import { _ } from "../i18n";
import { module, selected } from "../store";
import { CasesView } from "./CasesView";
import { ContactsView } from "./ContactsView";
import { ConversationView } from "./ConversationView";
import { Header } from "./Header";
import { helpShown } from "../shortcuts";
import { ShortcutsDialog } from "./ShortcutsDialog";
import { Sidebar } from "./Sidebar";

export interface Page {
  roleLabel: string;
  signOutUrl: string;
  auditUrl: string; // "" unless this reader may read the audit trail
  adminUrl: string; // "" unless an administrator
  maxChars: number;
}

export function App({ page }: { page: Page }) {
  const c = selected.value;
  return (
    <>
      <Header roleLabel={page.roleLabel} signOutUrl={page.signOutUrl} auditUrl={page.auditUrl} adminUrl={page.adminUrl} />
      <Sidebar />
      <main id="main" class="pane">
        {module.value === "cases" ? <CasesView />
         : module.value === "contacts" ? <ContactsView />
         : c ? <ConversationView c={c} maxChars={page.maxChars} key={c.id} />
           : <>
               <p class="notice" id="notice" role="alert">{notice.value}</p>
               <p class="empty" id="empty">{_("Choose a conversation, or take one from Waiting.")}</p>
             </>}
      </main>
      {helpShown.value && <ShortcutsDialog />}
    </>
  );
}
