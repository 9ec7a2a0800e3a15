// System lines in the reader's language (docs/protocol.md §18): the same words the server uses
// (conversations/models.py SYSTEM_LINES), translated by the page's catalog, filled with the
// line's `params`. A line this page does not know keeps the server's text.
const LINES = {
  agent_joined: gettext_noop("%(agent)s joined the conversation."),
  ended: gettext_noop("The conversation has ended."),
  customer_left: gettext_noop("The customer left; the conversation has ended."),
  transferred: gettext_noop("%(agent)s transferred the conversation to %(receiver)s."),
  released: gettext_noop("%(agent)s returned the conversation to the queue."),
  agent_away: gettext_noop("Returned to the queue: %(agent)s is away."),
  supervisor_joined: gettext_noop("%(agent)s (supervisor) joined the conversation."),
  customer_signed_in: gettext_noop("%(customer)s signed in with the bank."),
  case_status: gettext_noop("%(agent)s set the case's status to %(body)s."),
  topic_changed: gettext_noop("%(agent)s changed the topic to %(body)s."),
  outbound: gettext_noop("%(agent)s started this conversation with the customer."),
  queued: gettext_noop("%(agent)s moved the conversation to the %(body)s queue."),
  rejected: gettext_noop("%(agent)s rejected the conversation: %(body)s"),
  auto_closed: gettext_noop("The conversation was closed after %(body)s hours without a message."),
  barred: gettext_noop("%(agent)s barred the customer: %(body)s"),
};

export function messageText(message) {
  const line = message.system_code && message.params ? LINES[message.system_code] : null;
  if (!line) return message.text;
  return interpolate(gettext(line), { ...message.params, customer: message.params.customer || gettext("The customer") }, true);
}
