"""Every write to cases, their statuses and handlers. Called inside the transaction of a
conversation's action (conversations/actions), which checks permission, writes the case's
line in the conversation's staff stream and publishes the event."""
from django.utils import timezone
from django.utils.translation import gettext as _

from branchline.core.errors import Conflict

from .models import Case, CaseHandler, CaseStatus, Topic

# A line of business's statuses until its administrators change them: (name, resolved, initial).
DEFAULT_STATUSES = [("Open", False, True), ("In progress", False, False), ("Waiting for the customer", False, False),
                    ("Resolved", True, False)]


def case_statuses_ensure(line_of_business_id: int) -> CaseStatus:
    """The line's initial status, creating the default list first for a line that has none
    (a line created since the statuses' migration)."""
    initial = CaseStatus.objects.filter(line_of_business_id=line_of_business_id, is_initial=True).first()
    if initial is not None:
        return initial
    if not CaseStatus.objects.filter(line_of_business_id=line_of_business_id).exists():
        # ON CONFLICT DO NOTHING: two first cases of a new line at once both get the one list.
        CaseStatus.objects.bulk_create(
            [CaseStatus(line_of_business_id=line_of_business_id, name=name, is_resolved=resolved,
                        is_initial=is_initial, position=position)
             for position, (name, resolved, is_initial) in enumerate(DEFAULT_STATUSES)], ignore_conflicts=True)
    initial = (CaseStatus.objects.filter(line_of_business_id=line_of_business_id, is_initial=True).first()
               # an administrator removed the mark: the first open status serves
               or CaseStatus.objects.filter(line_of_business_id=line_of_business_id, is_resolved=False).first())
    if initial is None:
        raise Conflict(_("This line of business has no open case status: an administrator must add one."),
                       code="no_open_case_status")
    return initial


def case_open_for_conversation(*, customer, topic: Topic) -> Case:
    """The case a new conversation joins: an authenticated customer's open case on the
    same case type continues; otherwise a new case starts in the line's initial status.
    Call inside the caller's transaction (the customer row is locked there)."""
    if customer.is_authenticated:
        existing = (Case.objects.filter(customer=customer, case_type_id=topic.case_type_id, status__is_resolved=False)
                    .order_by("-id").first())
        if existing:
            return existing
    return case_start(customer=customer, topic=topic)


def case_start(*, customer, topic: Topic) -> Case:
    """A new case on `topic`, in its line's initial status."""
    line_id = topic.case_type.line_of_business_id
    now = timezone.now()
    return Case.objects.create(customer=customer, topic=topic, case_type_id=topic.case_type_id,
                               line_of_business_id=line_id, status=case_statuses_ensure(line_id), created_at=now,
                               updated_at=now)


def case_status_apply(case: Case, status: CaseStatus) -> None:
    """Set the status (row locked by the caller); a case becoming resolved records when."""
    now = timezone.now()
    if status.is_resolved and not case.status.is_resolved:
        case.resolved_at = now
    elif not status.is_resolved:
        case.resolved_at = None
    case.status, case.updated_at = status, now
    case.save(update_fields=["status", "resolved_at", "updated_at"])


def case_topic_apply(case: Case, topic: Topic) -> None:
    """Move the case to another topic, and so to that topic's case type (row locked by the caller)."""
    case.topic, case.case_type_id, case.updated_at = topic, topic.case_type_id, timezone.now()
    case.save(update_fields=["topic", "case_type", "updated_at"])


def case_handler_add(*, case_id: int, user_id: int) -> None:
    """`user_id` is (now) assigned to one of the case's conversations. ON CONFLICT DO
    NOTHING: a second assignment, even a concurrent one, keeps the first row."""
    CaseHandler.objects.bulk_create([CaseHandler(case_id=case_id, user_id=user_id)], ignore_conflicts=True)
