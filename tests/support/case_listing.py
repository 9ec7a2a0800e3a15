"""The Cases module's list checked against a plain reading of its rules (docs/adr/0018), for
every filter alone and in pairs, as each kind of member of staff, walked page by page: the
same check on SQLite (tests/test_cases.py) and on PostgreSQL (tests/scaleout), whose
statements differ (cases/listing.py)."""
import itertools
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from branchline.accounts.models import Role
from branchline.accounts.permissions import HANDLING_ROLES
from branchline.cases.actions import case_statuses_ensure
from branchline.cases.listing import CaseFilters, cases_page
from branchline.cases.models import Case, CaseHandler, CaseStatus
from branchline.conversations import actions
from branchline.conversations.models import Conversation, Tag
from tests import factories
from tests.factories import principal

WHOLE_LINE = (Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR)


def varied_cases() -> dict:
    """Twelve cases in one line and one in another: two case types, signed-in customers and
    guests, two agents (one case handed from one to the other), resolved and open, a tag,
    and three creation days. Returns who and what the filters name."""
    cards = factories.topic()
    line = cards.case_type.line_of_business
    loans = factories.topic(line)
    anna, ben = factories.staff(line), factories.staff(line)
    admin, supervisor = factories.staff(line, role=Role.ADMIN), factories.staff(line, role=Role.SUPERVISOR)
    auditor = factories.staff(line, role=Role.AUDITOR)
    case_statuses_ensure(line.id)
    resolved = CaseStatus.objects.filter(line_of_business=line, is_resolved=True).first()
    tag = Tag.objects.create(name=f"Tag {line.id}", line_of_business=line)
    names = ["Jan Kowalski", "Ewa Nowak", "Jan Nowak", "Olga 100%", "Anna_Maria", ""]
    now = timezone.now()
    for n in range(12):
        customer = factories.customer(authenticated=n % 4 != 3, name=names[n % len(names)])
        first, _ = actions.customer_message_send(principal=principal(customer), body="Hi", client_message_id=f"v{n}",
                                                 topic_id=(loans if n % 3 == 0 else cards).id)
        conversation_id = first.conversation_id
        if n % 5 != 4:  # the rest wait: nobody handled them yet
            actions.conversation_accept(principal=principal(anna if n % 2 else ben), conversation_id=conversation_id)
        if n % 6 == 1:
            actions.conversation_transfer(principal=principal(anna), conversation_id=conversation_id, to_user_id=ben.id)
        case_id = Conversation.objects.get(pk=conversation_id).case_id
        if n % 4 == 2:
            actions.case_status_set(principal=principal(anna if n % 2 else ben), case_id=case_id,
                                    status_id=resolved.id)
        if n % 3 == 1:
            Conversation.objects.get(pk=conversation_id).tags.add(tag)
        Case.objects.filter(pk=case_id).update(created_at=now - timedelta(days=n % 3))
    other = factories.topic()  # another line's case, which nobody here lists
    elsewhere, _ = actions.customer_message_send(principal=principal(factories.customer(authenticated=True,
                                                                                        name="Jan Obcy")),
                                                 body="Hi", client_message_id="other", topic_id=other.id)
    return {"other_case": Conversation.objects.get(pk=elsewhere.conversation_id).case_id, "line": line,
            "auditor": auditor, "anna": anna, "ben": ben, "admin": admin, "supervisor": supervisor, "tag": tag,
            "resolved": resolved, "types": [cards.case_type_id, loans.case_type_id], "today": timezone.localdate()}


def _cases(world: dict) -> list[dict]:
    """The cases any of these viewers could list (their line's, and any their agents handled)
    and the other line's one, with what the filters read."""
    users = [world["anna"].id, world["ben"].id]
    cases = Case.objects.filter(Q(line_of_business=world["line"]) | Q(handlers__user_id__in=users)
                                | Q(pk=world["other_case"])).distinct().select_related("customer", "status")
    return [{"id": case.id, "line": case.line_of_business_id, "status": case.status_id,
             "resolved": case.status.is_resolved, "type": case.case_type_id, "created_at": case.created_at,
             "customer": case.customer.name if case.customer.is_authenticated else None,
             "handlers": set(CaseHandler.objects.filter(case=case).values_list("user_id", flat=True)),
             "tags": set(Conversation.objects.filter(case=case).values_list("tags", flat=True))}
            for case in cases]


def expected(user, filters: CaseFilters, cases: list[dict]) -> list[int]:
    """The ids the rules say `user` lists with `filters`, in the list's order."""
    found = []
    for case in cases:
        if user.role in WHOLE_LINE:
            if case["line"] != user.line_of_business_id:
                continue
        elif user.role not in HANDLING_ROLES or user.id not in case["handlers"]:
            continue
        if filters.agent_id is not None and filters.agent_id not in case["handlers"]:
            continue
        if filters.status_id is not None and case["status"] != filters.status_id:
            continue
        if filters.resolved is not None and case["resolved"] != filters.resolved:
            continue
        if filters.case_type_id is not None and case["type"] != filters.case_type_id:
            continue
        if filters.tag_id is not None and filters.tag_id not in case["tags"]:
            continue
        q = filters.q.strip()
        if q.startswith("#"):
            if str(case["id"]) != q[1:]:
                continue
        elif q and not (case["customer"] is not None and q.casefold() in case["customer"].casefold()):
            continue
        day = timezone.localdate(case["created_at"])
        if filters.created_from is not None and day < filters.created_from:
            continue
        if filters.created_to is not None and day > filters.created_to:
            continue
        found.append(case)
    dated = filters.created_from is not None or filters.created_to is not None
    found.sort(key=(lambda c: (c["created_at"], c["id"])) if dated else (lambda c: c["id"]), reverse=True)
    return [case["id"] for case in found]


def walked(user, filters: CaseFilters, page: int = 3) -> list[int]:
    """Every id the list gives `user`, page by page (keyset: before_id)."""
    ids: list[int] = []
    while True:
        rows = cases_page(principal(user), filters, before_id=ids[-1] if ids else None, limit=page + 1)
        ids += [row["id"] for row in rows[:page]]
        if len(rows) <= page:
            return ids


def combinations(world: dict) -> list[CaseFilters]:
    """Each filter alone, then every pair of them."""
    some = {
        "status_id": [world["resolved"].id], "resolved": [True, False], "case_type_id": world["types"],
        "agent_id": [world["anna"].id, world["ben"].id], "tag_id": [world["tag"].id],
        "q": ["jan", "NOWAK", "#" + str(Case.objects.order_by("id")[3].id), "100%", "a_m", "_", "#0"],
        "created_from": [world["today"] - timedelta(days=1)], "created_to": [world["today"] - timedelta(days=1)],
    }
    single = [{name: value} for name, values in some.items() for value in values]
    pairs = [{**a, **b} for a, b in itertools.combinations(single, 2) if a.keys() != b.keys()]
    return [CaseFilters()] + [CaseFilters(**chosen) for chosen in single + pairs]


def mismatches(world: dict) -> list[str]:
    """What the list gives that the rules do not say, for every combination and viewer."""
    wrong = []
    cases = _cases(world)
    for user in (world["admin"], world["supervisor"], world["auditor"], world["anna"], world["ben"]):
        for filters in combinations(world):
            want, got = expected(user, filters, cases), walked(user, filters)
            if want != got:
                wrong.append(f"{user.username} {filters}: expected {want}, listed {got}")
    return wrong
