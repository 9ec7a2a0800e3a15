"""Every read of cases: the permission-checked fetch, the Cases module's list (listing.py)
and a line's statuses, topics and handlers."""
from branchline.accounts.models import User
from branchline.accounts.permissions import HANDLING_ROLES, CaseAction, can_case
from branchline.accounts.principals import Principal
from branchline.core.errors import NotFound
from branchline.core.ids import parse_id

from .models import Case, CaseHandler, CaseStatus, Topic

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


def case_statuses(line_of_business_id: int) -> list[CaseStatus]:
    return list(CaseStatus.objects.filter(line_of_business_id=line_of_business_id))


def topics_of_line(line_of_business_id: int):
    return Topic.objects.filter(is_active=True, case_type__line_of_business_id=line_of_business_id).select_related(
        "case_type")


def line_handlers(line_of_business_id: int) -> list[dict]:
    """Who handles cases in the line (its active agents and supervisors): the Cases module's
    agent filter."""
    users = (User.objects.filter(is_active=True, role__in=HANDLING_ROLES, line_of_business_id=line_of_business_id)
             .order_by("first_name", "last_name", "id"))
    return [{"id": user.id, "name": user.display_name} for user in users]


def case_handler_names(case_id: int) -> list[dict]:
    return [{"id": h.user_id, "name": h.user.display_name}
            for h in CaseHandler.objects.filter(case_id=case_id).select_related("user").order_by("first_at", "id")]
