// The staff console (/console/): the page gives who is signed in; everything else comes
// from the API and the socket, through the store.
import { render } from "preact";
import { start } from "./actions";
import { install as installShortcuts } from "./shortcuts";
import { App } from "./components/App";
import { handles, me, tab } from "./store";

const root = document.getElementById("console")!;
const data = root.dataset;
me.value = { id: Number(data.userId), name: data.userName ?? "", role: data.userRole ?? "" };
if (!handles.value) tab.value = "line"; // administrators and auditors read the whole line
root.replaceChildren();
render(<App page={{ roleLabel: data.roleLabel ?? "", signOutUrl: data.signOutUrl ?? "", auditUrl: data.auditUrl ?? "", adminUrl: data.adminUrl ?? "", maxChars: Number(data.messageMax) }} />, root);
start();
installShortcuts();
