// The conversation's case in its header: the case number, its status (changed in place by
// whoever may: the agent handling or who handled it, supervisors, administrators) and, during
// the conversation, its topic (and so its case type). The server decides; these only offer
// what it would accept (docs/protocol.md §11).
import { setCaseStatus, setTopic } from "../actions";
import { _, format } from "../i18n";
import { caseStatuses, changesCases, handles, isMine, isSupervisor, me, topics, type Conversation } from "../store";

export function CaseControls({ c }: { c: Conversation }) {
  const handledIt = isMine(c) || (c.state === "ended" && c.assigned_agent?.id === me.value.id);
  const mayChangeStatus = changesCases.value && (handledIt || isSupervisor.value || me.value.role === "admin");
  // Once every conversation of a resolved case has ended, the case is closed.
  const closed = c.state === "ended" && c.case_status.resolved;
  const mayChangeTopic = handles.value && c.state !== "ended" && (isMine(c) || isSupervisor.value);
  return (
    <div class="case-controls" id="case-controls">
      <span class="case-number">{format("Case #%s", c.case_id)}</span>
      <label class="case-field">
        <span>{_("Status")}</span>
        {mayChangeStatus && caseStatuses.value.length && !closed ? (
          <select id="case-status" value={c.case_status.id}
                  onChange={(e) => void setCaseStatus(c.case_id, Number(e.currentTarget.value))}>
            {caseStatuses.value.map((s) => (
              <option key={s.id} value={s.id}>{s.resolved ? format("%s (resolved)", s.name) : s.name}</option>
            ))}
          </select>
        ) : <output id="case-status-text" class={c.case_status.resolved ? "resolved" : ""}>{c.case_status.name}</output>}
      </label>
      <label class="case-field">
        <span>{_("Topic")}</span>
        {mayChangeTopic && topics.value.length ? (
          <select id="case-topic" value={c.topic.id} onChange={(e) => void setTopic(c.id, Number(e.currentTarget.value))}>
            {topics.value.map((t) => <option key={t.id} value={t.id}>{t.name} · {t.case_type.name}</option>)}
          </select>
        ) : <output id="case-topic-text">{c.topic.name} · {c.case_type.name}</output>}
      </label>
    </div>
  );
}
