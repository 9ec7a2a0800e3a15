// The audit trail page (/console/audit/, auditors and administrators): the server page gives
// the header, the audited event names and whether this reader may set the retention.
import { render } from "preact";
import { AuditPage } from "./AuditPage";

const root = document.getElementById("main")!;
const events = JSON.parse(document.getElementById("audit-events")?.textContent ?? "[]") as string[];
render(<AuditPage events={events} canSetRetention={root.dataset.canSetRetention === "true"} />, root);
