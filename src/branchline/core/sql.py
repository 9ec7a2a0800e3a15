"""Plain SQL for the hottest statements, built from the models' fields.

Building a query through the ORM costs more than running it: for a 50-item history page,
~1 ms of building around a 0.5 ms query, and as much again for a bearer-token lookup
(bench/README.md, "History paging"). The few statements on every request or every message
are written here once as SQL, from the models' own table and column names and read back
through the same converters the ORM applies, so a renamed field or another database
engine still works. Each statement's text is built on first use and kept.

On PostgreSQL they are also prepared: parsed and planned once per database connection,
then executed by name with their parameters bound by the server. A send's statement (an
UPDATE and an INSERT of every message column) cost PostgreSQL more to plan than to run,
and the driver more to quote its values into the text (bench/README.md, "Hot path")."""
from django.conf import settings
from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model) -> str:
    return quote(model._meta.db_table)


def column(model, name: str, alias: str | None = None) -> str:
    """A field's column, e.g. column(Message, "customer_id", "m") -> m."customer_id"."""
    quoted = quote(model._meta.get_field(name).column)
    return f"{alias}.{quoted}" if alias else quoted


class Columns:
    """Some fields of one model (under a table alias) in a SELECT list or RETURNING
    clause, and their values read back as the ORM would read them."""

    def __init__(self, model, names: tuple[str, ...], alias: str | None = None):
        self.model, self.names, self.alias = model, names, alias
        self.fields = [model._meta.get_field(name) for name in names]
        self.attnames = tuple(field.attname for field in self.fields)
        self._converters: dict[str, list] = {}

    def sql(self) -> str:
        return ", ".join(column(self.model, name, self.alias) for name in self.names)

    def _for_connection(self) -> list:
        """The fields that need converting on this connection, with their converters: the
        backend's, then the field's (Django's compiler order). E.g. SQLite's text timestamps
        become aware datetimes, JSON text becomes objects; most fields need none."""
        found = self._converters.get(connection.vendor)
        if found is None:
            found = []
            for field in self.fields:
                expression = field.get_col(self.model._meta.db_table)
                converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
                if converters:
                    found.append((field.attname, expression, converters))
            self._converters[connection.vendor] = found
        return found

    def values(self, row, start: int = 0) -> dict:
        """{attname: value} from row[start:start + len(names)]."""
        values = dict(zip(self.attnames, row[start:start + len(self.attnames)]))
        for attname, expression, converters in self._for_connection():
            for convert in converters:
                values[attname] = convert(values[attname], expression, connection)
        return values

    def instance(self, row, start: int = 0):
        """A model instance with these fields loaded (the others deferred), as the ORM's
        .only() would give."""
        values = self.values(row, start)
        # from_db takes the values in the model's field order, whatever order they were read in.
        return self.model.from_db(connection.alias, self.attnames,
                                  [values[f.attname] for f in self.model._meta.concrete_fields if f.attname in values])


class Reader:
    """Rows of a statement whose SELECT list starts with several Columns side by side, each
    row one dict of {prefix + attname: value}, converted as the ORM would (columns after
    these are left to the caller). The conversions are
    looked up once per page, not once per row: reading the connection's vendor through
    Django's connection proxy costs more than converting a row that needs nothing."""

    def __init__(self, *parts: tuple[Columns, str]):
        self.parts = parts
        self.keys = tuple(prefix + attname for columns, prefix in parts for attname in columns.attnames)

    def rows(self, found: list[tuple]) -> list[dict]:
        conversions = [(prefix + attname, expression, converters) for columns, prefix in self.parts
                       for attname, expression, converters in columns._for_connection()]
        keys, rows = self.keys, []
        for found_row in found:
            row = dict(zip(keys, found_row))
            for key, expression, converters in conversions:
                for convert in converters:
                    row[key] = convert(row[key], expression, connection)
            rows.append(row)
        return rows


# A statement's LIMIT is written into its text, not bound. Bound, it leaves PostgreSQL
# planning the statement anew at every execution: the generic plan assumes a tenth of the
# rows and so looks dearer than each custom plan, and the plan cache never keeps it (the
# Cases list: 0 generic plans in 12 pages, 0.60 ms a statement; written in, 0.33 ms).
# Rounded up to one of these sizes, the rows cut after, so the statements stay a small fixed
# set whatever sizes are asked: a page (50) and one more row, the API's largest pages.
LIMITS = (11, 26, 51, 101, 201, 1001)


def written_limit(limit: int) -> int:
    """The LIMIT to write into a statement that must return up to `limit` rows."""
    return next((size for size in LIMITS if size >= limit), int(limit))


_statements: dict[tuple, str] = {}


def statement(key: tuple, build) -> str:
    """The SQL `build()` returns, built once per database engine and key."""
    key = (connection.vendor, *key)
    found = _statements.get(key)
    return found if found is not None else _statements.setdefault(key, build())


def fetch(key: tuple, build, params: list | dict) -> list[tuple]:
    """The rows of the statement `build()` returns, with `params` bound (positional `%s`, or
    named `%(name)s` from a dict)."""
    with _cursor() as cursor:
        cursor.execute(statement(key, build), params)
        return cursor.fetchall()


def _cursor():
    """Django's cursor (its wrappers, checks and query log included); on PostgreSQL one
    that binds parameters on the server and prepares the statement."""
    if connection.vendor != "postgresql" or not settings.BRANCHLINE["DB_PREPARED_STATEMENTS"]:
        return connection.cursor()
    connection.ensure_connection()
    return connection._prepare_cursor(_PreparedCursor(connection.connection))


class _PreparedCursor(ServerBindingCursor):
    def execute(self, query, params=None, **kwargs):
        return super().execute(query, params, prepare=True)
