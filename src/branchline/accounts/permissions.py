"""Who may do what: the one permission model.

Roles, the line-of-business scope (built once per principal), `can(principal, action,
conversation)`, which every action asks through `conversations.selectors.access_conversation`,
and `can_case` for cases (`cases.selectors.access_case`).
A refusal is either NotFound (the object must stay invisible to this principal) or Forbidden
with a code (the principal may see it but not do this). Conflicts of state (already taken, ended) are the
actions' business and answer 409.

Objects are read by their fields (`customer_id`, `line_of_business_id`, `state`,
`assigned_agent_id`, `watchers`) so this module imports no other app's models."""
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from branchline.core.errors import Forbidden, NotFound

from .models import Role


class Action(StrEnum):
    VIEW = "conversation.view"
    ACCEPT = "conversation.accept"
    SEND = "message.send"  # write to the customer
    NOTE = "note.add"  # an internal note or a supervisor's whisper
    END = "conversation.end"
    RELEASE = "conversation.release"
    TRANSFER = "conversation.transfer"
    JOIN = "conversation.join"
    RECEIPT = "receipt.update"
    TYPING = "typing"
    TOPIC = "conversation.topic_set"  # move its case to another topic (and case type), during it
    CONTINUE = "conversation.continue"  # write to its (authenticated) customer again, after it ended
    QUEUE = "conversation.queue_set"  # move it to another queue of its line, to wait there
    REJECT = "conversation.reject"  # end it as a duplicate, spam..., instead of taking it up
    BAR = "customer.bar"  # bar its customer: their messages are dropped; their conversations end
    TAG = "conversation.tag"  # put a tag on it, or take one off
    RELATE = "customer.relate"  # relate its customer (their profile) to a contact, or create one for them


class CaseAction(StrEnum):
    VIEW = "case.view"  # the case, its timeline; it is listed in the Cases module
    STATUS = "case.status_set"


# Roles that see every conversation of their line(s) of business. Agents see their own,
# the ones they took part in, and what waits in the queues they serve (docs/adr/0019).
WHOLE_LINE_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR})
# Roles that take conversations from the queue and write to customers.
HANDLING_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR})


@dataclass(frozen=True)
class StaffScope:
    """What part of the bank a member of staff may see."""

    user_id: int
    role: str
    line_of_business_ids: frozenset[int]

    @property
    def whole_line(self) -> bool:
        return self.role in WHOLE_LINE_ROLES


def staff_scope(principal) -> StaffScope:
    lines = frozenset({principal.line_of_business_id}) if principal.line_of_business_id else frozenset()
    return StaffScope(principal.id, principal.role, lines)


def _forbidden(message, code: str) -> Forbidden:
    return Forbidden(message, code=code)


def _customer_verdict(principal, action: Action, conversation):
    if conversation.customer_id != principal.id:
        return NotFound(code="conversation_not_found")
    if action in (Action.VIEW, Action.SEND, Action.RECEIPT, Action.TYPING):
        return None
    return _forbidden(_("Customers cannot do this."), "staff_only")


def _staff_may_view(scope: StaffScope, action: Action, conversation, participated: bool, serves: bool) -> bool:
    in_line = conversation.line_of_business_id in scope.line_of_business_ids
    if scope.whole_line:
        return in_line
    if action is Action.ACCEPT and scope.role in HANDLING_ROLES:
        # Whoever could have taken it from its queue hears "already taken", not "not found".
        return in_line and serves
    return (conversation.assigned_agent_id == scope.user_id or participated
            or (in_line and serves and conversation.state == "waiting"))


def can(principal, action: Action, conversation, *, participated: bool = False, serves: bool = False):
    """None if `principal` may do `action` on `conversation`, else the error to raise.

    `participated`: the principal is (or was) a participant; `serves`: they are enabled on
    the conversation's queue and granted its channel (routing, docs/adr/0019). Callers that
    have not looked pass False and get the stricter answer."""
    if principal is None:
        return NotFound(code="conversation_not_found")
    if principal.is_customer:
        return _customer_verdict(principal, action, conversation)
    scope = staff_scope(principal)
    if not _staff_may_view(scope, action, conversation, participated, serves):
        return NotFound(code="conversation_not_found")
    if action is Action.VIEW:
        return None
    if scope.role not in HANDLING_ROLES:
        return _forbidden(_("Your role can read conversations but not act on them."), "role_read_only")
    is_assigned = conversation.assigned_agent_id == scope.user_id
    is_watching = scope.user_id in (conversation.watchers or ())
    supervises = scope.role == Role.SUPERVISOR
    if action is Action.ACCEPT:
        return None  # any handling role that sees it; the action checks the state
    if action is Action.JOIN:
        return None if supervises else _forbidden(_("Only supervisors join conversations."), "supervisor_only")
    # As notes: those handling or following it, after its end too; supervisors.
    if action in (Action.TAG, Action.RELATE):
        if is_assigned or is_watching or participated or supervises:
            return None
        return _forbidden(_("Take or join the conversation before writing in it."), "not_a_participant")
    if action in (Action.SEND, Action.NOTE, Action.TYPING):
        if is_assigned or is_watching:
            return None
        return _forbidden(_("Take or join the conversation before writing in it."), "not_a_participant")
    if action is Action.CONTINUE:
        return None  # any handling role that sees it; the action checks the customer and state
    if action in (Action.QUEUE, Action.REJECT, Action.BAR) and conversation.state == "waiting":
        # Whoever may take it from its queue may also send it elsewhere, or reject it; having
        # taken part in it once (then sent it to a queue they do not serve) is not enough.
        if supervises or (serves and conversation.line_of_business_id in scope.line_of_business_ids):
            return None
        return _forbidden(_("Only those who serve its queue can do this while it waits."), "not_serving")
    if action in (Action.END, Action.RELEASE, Action.TRANSFER, Action.TOPIC, Action.QUEUE, Action.REJECT,
                  Action.BAR):
        if is_assigned or supervises:
            return None
        return _forbidden(_("Only the agent handling the conversation, or a supervisor, can do this."),
                          "not_assigned")
    if action is Action.RECEIPT:
        if participated or is_assigned or is_watching:
            return None
        return _forbidden(_("Only participants send receipts."), "not_a_participant")
    raise ValueError(f"unknown action {action!r}")


def can_case(principal, action: CaseAction, case, *, handled: bool = False):
    """None if `principal` may do `action` on `case`, else the error to raise. Customers
    never manage cases (seed 001). Agents see the cases they were or are assigned to
    (`handled`); supervisors, administrators and auditors every case of their line.
    Auditors only read."""
    if principal is None or not principal.is_staff:
        return NotFound(code="case_not_found")
    scope = staff_scope(principal)
    if not (handled or (scope.whole_line and case.line_of_business_id in scope.line_of_business_ids)):
        return NotFound(code="case_not_found")
    if action is CaseAction.VIEW:
        return None
    if scope.role == Role.AUDITOR:
        return _forbidden(_("Your role can read cases but not change them."), "role_read_only")
    if action is CaseAction.STATUS:
        return None  # the agent who handled it, the line's supervisors and administrators
    raise ValueError(f"unknown action {action!r}")


def require_administrator(principal) -> None:
    """Administration (IP allow-lists now; users, lines and channels next) is for
    administrators only: Forbidden `role_forbidden` for anyone else."""
    if principal is None or not principal.is_staff or principal.role != Role.ADMIN:
        raise _forbidden(_("Only administrators may do this."), "role_forbidden")


def require_role(principal, roles, message) -> None:
    """Forbidden `role_forbidden` (with `message`) unless `principal` is staff in one of `roles`."""
    if principal is None or not principal.is_staff or principal.role not in roles:
        raise _forbidden(message, "role_forbidden")


# Lifting a customer's bar, and adding a tag to the line's list from the console.
LEADING_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


def require_audit_reader(principal) -> None:
    """The audit trail is read by auditors and administrators: Forbidden `role_forbidden`
    for anyone else. It is one chain for the whole bank (docs/adr/0012)."""
    if principal is None or not principal.is_staff or principal.role not in (Role.AUDITOR, Role.ADMIN):
        raise _forbidden(_("Only auditors and administrators read the audit trail."), "role_forbidden")
