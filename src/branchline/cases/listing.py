"""The Cases module's list: one page of the cases a member of staff may see, newest first, as
one statement (core/sql.py: built once per shape of filters, prepared on PostgreSQL).

Through the ORM a page cost two queries (the page, then the names of its topics, types,
statuses and lines) and, for an agent's, a transaction with two `SET LOCAL`s around them:
building them was a quarter of a page's server time, and planning them anew on every request
most of PostgreSQL's (bench/README.md, "The Cases module"). Here the page's cases are chosen
in a subquery bounded by its LIMIT, and only those rows are joined to the small tables'
names: SQLite cannot flatten a LIMITed subquery into the joins, so its planner no longer
walks the small tables first and sorts a million cases after.

Each page is one walk down an index (docs/adr/0018): the line's `(line, id)`,
`(line, status, id)` or `(line, case type, id)`; for one member of staff's cases their handler
rows' `(user, case)`, each case then looked up by its key; for a range of days
`(line, created_at)` or `created_at`, paged in `(created_at, id)` order."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.utils import timezone

from branchline.accounts.models import LineOfBusiness
from branchline.accounts.permissions import staff_scope
from branchline.accounts.principals import Principal
from branchline.contacts.models import Customer
from branchline.core import sql
from branchline.core.ids import MAX_ID

from .models import Case, CaseHandler, CaseStatus, CaseType, Topic


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


# What a row reads, in the statement's order, each part under the ROW_FIELDS prefix
# (cases/schemas.py) its values go to: the case's columns and its customer's in the page's
# subquery, the names outside it.
_CASE = sql.Columns(Case, ("id", "customer", "topic", "case_type", "status", "line_of_business", "created_at",
                           "updated_at", "resolved_at"), "c")
_CUSTOMER = sql.Columns(Customer, ("name", "is_authenticated"), "cu")
_NAMES = (sql.Columns(Topic, ("name",), "t"), sql.Columns(CaseType, ("name",), "ct"),
          sql.Columns(CaseStatus, ("name", "is_resolved"), "s"), sql.Columns(LineOfBusiness, ("name",), "l"))
_ROWS = sql.Reader((_CASE, ""), (_CUSTOMER, "customer__"),
                   *zip(_NAMES, ("topic__", "case_type__", "status__", "line_of_business__")))


def cases_page(principal: Principal, filters: CaseFilters, *, before_id: int | None, limit: int) -> list[dict]:
    """At most `limit` of the cases the principal lists, with ids below `before_id`, newest
    first, as ROW_FIELDS values (cases/schemas.py).

    Supervisors, administrators and auditors list their line's cases; agents the ones they
    were or are assigned to; nobody else any."""
    if principal is None or not principal.is_staff:
        return []
    scope = staff_scope(principal)
    page = _Page(filters, before_id, limit)
    if scope.whole_line:
        page.lines = sorted(scope.line_of_business_ids)
        page.handler = filters.agent_id
    else:  # an agent: the cases they handled (and, with the agent filter, a colleague too)
        page.handler = principal.id
        page.colleague = filters.agent_id
    if not scope.whole_line or page.lines:
        params = page.params()
        return _ROWS.rows(sql.fetch(page.key(params), page.sql, params)[:limit])
    return []  # a bank-wide administrator without a line of business sees no line's cases


class _Page:
    """The statement for one shape of filters, and its named parameters: each condition
    names the values it reads, so the dated pages test their cursor case against the same
    conditions (written for another table alias) with the same values."""

    def __init__(self, filters: CaseFilters, before_id: int | None, limit: int):
        self.filters, self.before_id = filters, before_id
        self.limit = sql.written_limit(limit)  # the rows are cut to `limit` after
        self.lines: list[int] = []  # the line(s) listed whole
        self.handler: int | None = None  # walk this member of staff's handler rows
        self.colleague: int | None = None  # ... of cases this one handled too
        self.case_id = _case_number(filters.q)
        self.name = "" if self.case_id is not None else filters.q.strip()
        self.dated = filters.created_from is not None or filters.created_to is not None
        to = filters.created_to
        self.created_to = to if to is not None and to < date.max else None

    def params(self) -> dict:
        """The values the statement names; one absent (None) leaves its condition out."""
        f = self.filters
        values = {f"line{n}": line for n, line in enumerate(self.lines)}
        values.update(status=f.status_id, resolved=f.resolved, case_type=f.case_type_id, case_id=self.case_id,
                      tag=f.tag_id, handler=self.handler, colleague=self.colleague, before=self.before_id)
        if self.name:
            values.update(signed_in=True, name=f"%{connection.ops.prep_for_like_query(self.name)}%")
        if f.created_from is not None:
            values["created_from"] = _datetime(f.created_from)
        if self.created_to is not None:
            values["created_before"] = _datetime(self.created_to + timedelta(days=1))
        return {name: value for name, value in values.items() if value is not None}

    def key(self, params: dict) -> tuple:
        """What tells one statement from another: the values it names (always in the same
        order), whether it walks a range of days (`created_to` beyond any date names none)
        and its LIMIT."""
        return ("cases_page", self.limit, self.dated, *params)

    # -- the conditions --------------------------------------------------------------------
    def _conditions(self, alias: str, customer: str) -> list[str]:
        f, where = self.filters, []
        if self.lines:
            lines = ", ".join(f"%(line{n})s" for n in range(len(self.lines)))
            where.append(f"{_col(Case, 'line_of_business', alias)} IN ({lines})")
        if f.status_id is not None:
            where.append(f"{_col(Case, 'status', alias)} = %(status)s")
        if f.resolved is not None:
            where.append(f"EXISTS (SELECT 1 FROM {sql.table(CaseStatus)} rs WHERE {_col(CaseStatus, 'id', 'rs')} = "
                         f"{_col(Case, 'status', alias)} AND {_col(CaseStatus, 'is_resolved', 'rs')} = %(resolved)s)")
        if f.case_type_id is not None:
            where.append(f"{_col(Case, 'case_type', alias)} = %(case_type)s")
        if self.case_id is not None:
            where.append(f"{_col(Case, 'id', alias)} = %(case_id)s")
        if self.name:
            name = connection.ops.lookup_cast("icontains", "CharField") % _col(Customer, "name", customer)
            where.append(f"{_col(Customer, 'is_authenticated', customer)} = %(signed_in)s AND "
                         f"{name} {connection.operators['icontains'] % '%(name)s'}")
        if f.tag_id is not None:
            # Conversations sit above cases in the layers (docs/adr/0018): reached by relation.
            Conversation = Case._meta.get_field("conversations").related_model  # noqa: N806
            tags = Conversation.tags.through
            where.append(f"EXISTS (SELECT 1 FROM {sql.table(Conversation)} tv JOIN {sql.table(tags)} tt ON "
                         f"{_col(tags, 'conversation', 'tt')} = {_col(Conversation, 'id', 'tv')} WHERE "
                         f"{_col(Conversation, 'case', 'tv')} = {_col(Case, 'id', alias)} AND "
                         f"{_col(tags, 'tag', 'tt')} = %(tag)s)")
        if self.dated:
            # An agent's range of days tests each case of the range for their handler row.
            for user in ("handler", "colleague"):
                if getattr(self, user) is not None:
                    where.append(_handled_by(f"{alias}_{user}", _col(Case, "id", alias), user))
            if f.created_from is not None:
                where.append(f"{_col(Case, 'created_at', alias)} >= %(created_from)s")
            if self.created_to is not None:
                where.append(f"{_col(Case, 'created_at', alias)} < %(created_before)s")
        return where

    # -- the statement -------------------------------------------------------------------
    def sql(self) -> str:
        inner = self._dated_sql() if self.dated else self._walk_sql()
        order = f"p.{sql.quote(_field(Case, 'id').column)} DESC"
        if self.dated:
            order = f"p.{sql.quote(_field(Case, 'created_at').column)} DESC, {order}"
        joins = " ".join(f"JOIN {sql.table(columns.model)} {columns.alias} ON "
                         f"{_col(columns.model, 'id', columns.alias)} = p.{sql.quote(_field(Case, field).column)}"
                         for columns, field in zip(_NAMES, ("topic", "case_type", "status", "line_of_business")))
        names = ", ".join(columns.sql() for columns in _NAMES)
        return f"SELECT p.*, {names} FROM ({inner}) p {joins} ORDER BY {order}"

    def _selected(self) -> str:
        return (f"SELECT {_CASE.sql()}, {_CUSTOMER.sql()} FROM {sql.table(Case)} c JOIN {sql.table(Customer)} cu ON "
                f"{_col(Customer, 'id', 'cu')} = {_col(Case, 'customer', 'c')}")

    def _walk_sql(self) -> str:
        where = self._conditions("c", "cu")
        if self.handler is None:  # the line's cases, down (line, [status | case type,] id)
            if self.before_id is not None:
                where.append(f"{_col(Case, 'id', 'c')} < %(before)s")
            return (f"{self._selected()} WHERE {' AND '.join(where)} ORDER BY {_col(Case, 'id', 'c')} DESC "
                    f"LIMIT {self.limit}")
        # One member of staff's cases, down their handler rows (user, case).
        outer = [f"{_col(CaseHandler, 'user', 'h')} = %(handler)s"]
        if self.colleague is not None:
            outer.append(_handled_by("hc", _col(CaseHandler, "case", "h"), "colleague"))
        if self.before_id is not None:
            outer.append(f"{_col(CaseHandler, 'case', 'h')} < %(before)s")
        key = f"{_col(Case, 'id', 'c')} = {_col(CaseHandler, 'case', 'h')}"
        if connection.vendor == "postgresql":
            # Each case looked up by its key, in a LATERAL subquery that OFFSET 0 keeps the
            # planner from flattening: left to itself it merge-joins the handler rows with the
            # cases' primary key and reads every case between two of theirs (0.4-6 s for a
            # deep page at a million cases; ~1 ms this way).
            cases = f"CROSS JOIN LATERAL ({self._selected()} WHERE {' AND '.join([key, *where])} OFFSET 0) c"
            columns = ", ".join(f"c.{sql.quote(field.column)}" for field in (*_CASE.fields, *_CUSTOMER.fields))
        else:  # SQLite's planner does nested loops down the outer index already
            cases = (f"JOIN {sql.table(Case)} c ON {key} JOIN {sql.table(Customer)} cu ON "
                     f"{_col(Customer, 'id', 'cu')} = {_col(Case, 'customer', 'c')}")
            columns = f"{_CASE.sql()}, {_CUSTOMER.sql()}"
            outer += where
        return (f"SELECT {columns} FROM {sql.table(CaseHandler)} h {cases} WHERE {' AND '.join(outer)} "
                f"ORDER BY {_col(CaseHandler, 'case', 'h')} DESC LIMIT {self.limit}")

    def _dated_sql(self) -> str:
        """A range of days walks the creation times' index newest first: id order would walk
        every case newer than the range first (a million, for last year's). The cursor is
        still the last case's id; a case outside this very list gives an empty page, so no
        other case's time is told."""
        where = self._conditions("c", "cu")
        if self.before_id is not None:
            cursor = (f"(SELECT {_col(Case, 'created_at', 'k')} FROM {sql.table(Case)} k JOIN {sql.table(Customer)} "
                      f"kc ON {_col(Customer, 'id', 'kc')} = {_col(Case, 'customer', 'k')} WHERE "
                      f"{' AND '.join([f'{_col(Case, 'id', 'k')} = %(before)s', *self._conditions('k', 'kc')])})")
            created, case_id = _col(Case, "created_at", "c"), _col(Case, "id", "c")
            where.append(f"{created} <= {cursor} AND ({created} < {cursor} OR {case_id} < %(before)s)")
        return (f"{self._selected()} WHERE {' AND '.join(where)} "
                f"ORDER BY {_col(Case, 'created_at', 'c')} DESC, {_col(Case, 'id', 'c')} DESC LIMIT {self.limit}")


def _handled_by(alias: str, case_id: str, user: str) -> str:
    """The case named by `case_id` was handled by the member of staff the parameter `user` names."""
    return (f"EXISTS (SELECT 1 FROM {sql.table(CaseHandler)} {alias} WHERE {_col(CaseHandler, 'case', alias)} = "
            f"{case_id} AND {_col(CaseHandler, 'user', alias)} = %({user})s)")


def _case_number(q: str) -> int | None:
    """The case id asked for with "#<id>" (0, which no case has, beyond the ids' range)."""
    q = q.strip()
    if q.startswith("#") and q[1:].isdecimal() and q[1:].isascii():
        number = int(q[1:])
        return number if 0 < number <= MAX_ID else 0
    return None


def _datetime(day: date):
    return connection.ops.adapt_datetimefield_value(timezone.make_aware(datetime.combine(day, time.min)))


def _field(model, name: str):
    return model._meta.get_field(name)


def _col(model, name: str, alias: str) -> str:
    return sql.column(model, name, alias)
