"""Every read of cases: the permission-checked fetch, the Cases module's index (keyset on
id, newest first, scoped by role) and a line's statuses and topics."""
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from branchline.accounts.models import User
from branchline.accounts.permissions import HANDLING_ROLES, CaseAction, can_case, staff_scope
from branchline.accounts.principals import Principal
from branchline.core.errors import NotFound
from branchline.core.ids import MAX_ID, parse_id

from .models import Case, CaseHandler, CaseStatus, Topic
from .schemas import CASE_FIELDS, NAMED_FIELDS

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


@dataclass(frozen=True)
class CaseFilters:
    status_id: int | None = None
    case_type_id: int | None = None
    agent_id: int | None = None  # handled by this member of staff
    created_from: date | None = None
    created_to: date | None = None  # inclusive
    q: str = ""  # the customer's name, or "#<case id>"
    resolved: bool | None = None
    tag_id: int | None = None  # one of its conversations carries this tag


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def cases_page(principal: Principal, filters: CaseFilters, *, before_id: int | None, limit: int) -> list[dict]:
    """One page of the Cases module, newest first: at most `limit` of the cases the principal
    lists, with ids below `before_id`, as CaseRow values (schemas.ROW_FIELDS).

    Supervisors, administrators and auditors list their line's cases; agents the ones they
    were or are assigned to; nobody else any. Each page is one walk down an index, newest
    first (docs/adr/0018): the line's (line, id) or (line, status, id) ..., or, for one
    member of staff's cases, the handlers' (user, case), joined to each case by its key."""
    if principal is None or not principal.is_staff:
        return []
    scope = staff_scope(principal)
    handler = filters.agent_id if scope.whole_line else principal.id
    if filters.created_from is not None or filters.created_to is not None:
        return _dated_page(scope, handler, filters, before_id=before_id, limit=limit)
    if handler is not None:  # read through that member of staff's handler rows
        rows = CaseHandler.objects.filter(user_id=handler)
        if scope.whole_line:
            rows = rows.filter(case__line_of_business_id__in=scope.line_of_business_ids)
        elif filters.agent_id is not None:  # an agent's cases that a colleague handled too
            rows = rows.filter(Exists(CaseHandler.objects.filter(case_id=OuterRef("case_id"),
                                                                 user_id=filters.agent_id)))
        prefix, key = "case__", "case_id"
    else:
        rows, prefix, key = Case.objects.filter(line_of_business_id__in=scope.line_of_business_ids), "", "id"
    rows = rows.filter(**{prefix + name: value for name, value in _conditions(filters).items()})
    if filters.tag_id is not None:
        rows = rows.filter(_tagged(filters.tag_id, key))
    if before_id is not None:
        rows = rows.filter(**{f"{key}__lt": before_id})
    found = rows.order_by(f"-{key}").values(*(prefix + field for field in CASE_FIELDS))[:limit]
    with _one_case_at_a_time() if prefix else nullcontext():
        return _named([{field: row[prefix + field] for field in CASE_FIELDS} for row in found])


def _named(rows: list[dict]) -> list[dict]:
    """The rows with the names of the topics, case types, statuses and lines they name, read
    in a second query by the page's case ids rather than joined in the page's own (SQLite's
    planner would walk those small tables first and sort a million cases after: 36 s for an
    agent's page)."""
    if rows:
        names = {named.pop("id"): named for named in
                 Case.objects.filter(pk__in=[row["id"] for row in rows]).values("id", *NAMED_FIELDS)}
        for row in rows:
            row.update(names[row["id"]])
    return rows


@contextmanager
def _one_case_at_a_time():
    """PostgreSQL, for one walk down a member of staff's handler rows: look each case up by
    its key. Left to itself the planner merge-joins the handlers with the cases' primary key,
    which reads every case between two of theirs: the whole table for a deep page or for
    someone who handled few (measured: 0.4-6 s at a million cases; 1 ms this way)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_mergejoin = off")
        cursor.execute("SET LOCAL enable_hashjoin = off")
        yield


def _conditions(filters: CaseFilters) -> dict:
    """The filters as lookups on Case (the dates apart)."""
    conditions = {"status_id": filters.status_id, "status__is_resolved": filters.resolved,
                  "case_type_id": filters.case_type_id}
    q = filters.q.strip()
    if q.startswith("#") and q[1:].isdecimal() and q[1:].isascii():
        number = int(q[1:])
        conditions["id"] = number if 0 < number <= MAX_ID else 0  # no case has id 0
    elif q:
        conditions.update({"customer__is_authenticated": True, "customer__name__icontains": q})
    return {name: value for name, value in conditions.items() if value is not None}


def _tagged(tag_id: int, key: str) -> Exists:
    """One of the case's conversations carries the tag (the case named by the outer `key`)."""
    return Exists(Case.objects.filter(pk=OuterRef(key), conversations__tags__id=tag_id))


def _dated_page(scope, handler: int | None, filters: CaseFilters, *, before_id: int | None, limit: int) -> list[dict]:
    """A range of days, newest first, walks the creation times' index, (line, created_at) or
    created_at: id order would walk every case newer than the range first (a million, for
    last year's). Pages in (created_at, id) order; the cursor is still the last case's id."""
    rows = Case.objects.filter(**_conditions(filters))
    if filters.tag_id is not None:
        rows = rows.filter(_tagged(filters.tag_id, "pk"))
    if scope.whole_line:
        rows = rows.filter(line_of_business_id__in=scope.line_of_business_ids)
    for user_id in {handler, filters.agent_id} - {None}:
        rows = rows.filter(Exists(CaseHandler.objects.filter(case_id=OuterRef("pk"), user_id=user_id)))
    if filters.created_from is not None:
        rows = rows.filter(created_at__gte=_day_start(filters.created_from))
    if filters.created_to is not None and filters.created_to < date.max:
        rows = rows.filter(created_at__lt=_day_start(filters.created_to + timedelta(days=1)))
    if before_id is not None:  # a case of this very list, or none: no other case's time is told
        cursor = rows.filter(pk=before_id).values_list("created_at", flat=True).first()
        if cursor is None:
            return []
        rows = rows.filter(created_at__lte=cursor).exclude(created_at=cursor, id__gte=before_id)
    return _named(list(rows.order_by("-created_at", "-id").values(*CASE_FIELDS)[:limit]))


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
