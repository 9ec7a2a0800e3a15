"""Every read of cases: the permission-checked fetch, the Cases module's index (keyset on
id, newest first, scoped by role) and a line's statuses and topics."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from branchline.accounts.permissions import CaseAction, can_case, staff_scope
from branchline.accounts.principals import Principal
from branchline.core.errors import NotFound
from branchline.core.ids import parse_id

from .models import Case, CaseHandler, CaseStatus, Topic
from .schemas import ROW_FIELDS

RELATED = ("customer", "topic", "case_type", "status", "line_of_business")


def handled(principal: Principal, case_id: int) -> bool:
    return CaseHandler.objects.filter(case_id=case_id, user_id=principal.id).exists()


def access_case(principal: Principal, case_id, action: CaseAction = CaseAction.VIEW, *, for_update=False) -> Case:
    """The case, if `principal` may do `action` on it; NotFound or Forbidden if not."""
    case_id = parse_id(case_id, code="case_not_found")
    queryset = Case.objects.select_related(*RELATED)
    if for_update:
        queryset = queryset.select_for_update(no_key=True, of=("self",))
    case = queryset.filter(pk=case_id).first()
    if case is None:
        raise NotFound(code="case_not_found")
    verdict = can_case(principal, action, case)
    if verdict is not None and principal is not None and principal.is_staff and handled(principal, case.id):
        verdict = can_case(principal, action, case, handled=True)
    if verdict is not None:
        raise verdict
    return case


def cases_visible_to(principal: Principal):
    """Every case the principal lists in the Cases module: their line's for supervisors,
    administrators and auditors; the ones they were or are assigned to for agents; none for
    anyone else. (One indexed range each: (line, id) or the handlers' (user, case).)"""
    if principal is None or not principal.is_staff:
        return Case.objects.none()
    scope = staff_scope(principal)
    if scope.whole_line:
        return Case.objects.filter(line_of_business_id__in=scope.line_of_business_ids)
    return Case.objects.filter(Exists(CaseHandler.objects.filter(case_id=OuterRef("pk"), user_id=principal.id)))


@dataclass(frozen=True)
class CaseFilters:
    status_id: int | None = None
    case_type_id: int | None = None
    agent_id: int | None = None  # handled by this member of staff
    created_from: date | None = None
    created_to: date | None = None  # inclusive
    q: str = ""  # the customer's name, or "#<case id>"
    resolved: bool | None = None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def cases_page(principal: Principal, filters: CaseFilters, *, before_id: int | None, limit: int) -> list[dict]:
    """One page of the Cases module, newest first: at most `limit` cases with ids below
    `before_id`, as CaseRow values (schemas.ROW_FIELDS). Each filter narrows an indexed
    range (docs/adr/0018)."""
    cases = cases_visible_to(principal)
    if filters.status_id is not None:
        cases = cases.filter(status_id=filters.status_id)
    if filters.resolved is not None:
        cases = cases.filter(status__is_resolved=filters.resolved)
    if filters.case_type_id is not None:
        cases = cases.filter(case_type_id=filters.case_type_id)
    if filters.agent_id is not None:
        cases = cases.filter(Exists(CaseHandler.objects.filter(case_id=OuterRef("pk"), user_id=filters.agent_id)))
    if filters.created_from is not None:
        cases = cases.filter(created_at__gte=_day_start(filters.created_from))
    if filters.created_to is not None:
        cases = cases.filter(created_at__lt=_day_start(filters.created_to) + timedelta(days=1))
    q = filters.q.strip()
    if q.startswith("#") and q[1:].isdigit():
        cases = cases.filter(pk=int(q[1:]))
    elif q:
        cases = cases.filter(customer__is_authenticated=True, customer__name__icontains=q)
    if before_id is not None:
        cases = cases.filter(pk__lt=before_id)
    return list(cases.order_by("-id").values(*ROW_FIELDS)[:limit])


def case_statuses(line_of_business_id: int) -> list[CaseStatus]:
    return list(CaseStatus.objects.filter(line_of_business_id=line_of_business_id))


def topics_of_line(line_of_business_id: int):
    return Topic.objects.filter(is_active=True, case_type__line_of_business_id=line_of_business_id).select_related(
        "case_type")


def case_handler_names(case_id: int) -> list[dict]:
    return [{"id": h.user_id, "name": h.user.display_name}
            for h in CaseHandler.objects.filter(case_id=case_id).select_related("user").order_by("first_at", "id")]
