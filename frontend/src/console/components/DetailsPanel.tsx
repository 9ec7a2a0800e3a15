// "Conversation" in the interaction panel: when it began and when it closes by itself (the
// channel's auto-close), the language the customer writes in and how they sound now — both
// computed on the server from their latest messages (GET .../insights, docs/adr/0023), read
// again whenever they write.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, unwrap, type Schemas } from "../../api/client";
import { _, N_, locale } from "../i18n";
import { selectedThread, type Conversation } from "../store";

const when = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
const TONES: Record<string, string> = { positive: N_("Positive"), neutral: N_("Neutral"), negative: N_("Negative") };

function languageName(code: string): string {
  try {
    return new Intl.DisplayNames([document.documentElement.lang || navigator.language], { type: "language" }).of(code) ?? code;
  } catch {
    return code;
  }
}

export function DetailsPanel({ c }: { c: Conversation }) {
  const insights = useSignal<Schemas["InsightsOut"] | null>(null);
  const thread = selectedThread.value;
  const fromCustomer = thread.order.filter((id) => thread.byId.get(id)?.sender === "customer").length;

  useEffect(() => {
    let current = true;
    unwrap(api.GET("/api/staff/conversations/{conversation_id}/insights", { params: { path: { conversation_id: c.id } } }))
      .then((found) => { if (current) insights.value = found; })
      .catch(() => { if (current) insights.value = null; });
    return () => { current = false; };
  }, [c.id, fromCustomer]);

  const found = insights.value;
  return (
    <section class="details-panel" id="details-panel" aria-labelledby="details-title">
      <h3 id="details-title">{_("Conversation")}</h3>
      <dl class="contact-card">
        <div><dt>{_("Started")}</dt><dd id="details-started">{when.format(new Date(c.created_at))}</dd></div>
        {c.closes_at && <div><dt>{_("Closes")}</dt><dd id="details-closes">{when.format(new Date(c.closes_at))}</dd></div>}
        {c.ended_at && <div><dt>{_("Ended")}</dt><dd>{when.format(new Date(c.ended_at))}</dd></div>}
        <div><dt>{_("Language")}</dt>
          <dd id="details-language">{found?.language ? languageName(found.language) : _("Not known yet")}</dd></div>
        <div><dt>{_("Tone")}</dt>
          <dd id="details-tone" data-tone={found?.sentiment ?? undefined}>
            {found?.sentiment ? _(TONES[found.sentiment]) : _("Not known yet")}
          </dd></div>
      </dl>
    </section>
  );
}
