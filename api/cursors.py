"""Cursor pagination: a page is the rows after the last one of the previous page, in
the list's order, found through the index that orders it; no OFFSET, no COUNT, so a
page costs the same at row 10 and at row 100,000.

A cursor is the last row's sort key (two columns, the second unique) in opaque
base64. The condition ``a <= x AND (a < x OR b < y)`` (for a descending list) gives
the index a range on ``a`` and leaves only ties to filter."""

import base64
import json
import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Exists, Q, QuerySet

from api.problems import validation_problem
from common.db import compiled_timestamps, prepared_cursor

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


class BadCursor(Exception):
    def response(self):
        return validation_problem(
            [{"field": "query.cursor", "message": "This cursor is not one this list gave.", "code": "invalid_cursor"}]
        )


@dataclass(frozen=True)
class Ordering:
    """A list's order: two columns (the second unique), each ascending or not, and
    what type the first one is (for reading it back from a cursor)."""

    first: str
    second: str = "id"
    descending: bool = False
    first_is_time: bool = False

    def order_by(self) -> list[str]:
        sign = "-" if self.descending else ""
        return [f"{sign}{self.first}", f"{sign}{self.second}"]

    def encode(self, row) -> str:
        first, second = _value(row, self.first), _value(row, self.second)
        if isinstance(first, datetime):
            first = first.isoformat()
        return base64.urlsafe_b64encode(json.dumps([first, second]).encode()).decode().rstrip("=")

    def decode(self, cursor: str):
        try:
            first, second = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            if self.first_is_time:
                first = datetime.fromisoformat(first)
                if first.tzinfo is None:
                    raise ValueError
            elif not isinstance(first, str) or "\x00" in first:
                raise ValueError
            if isinstance(second, bool) or not isinstance(second, int) or not 0 < second < 2**63:
                raise ValueError
        except (ValueError, TypeError, UnicodeError):
            raise BadCursor from None
        return first, second

    def sql_after(self, first: str, second: str) -> str:
        """``after``'s condition for SQL written out, over columns ``first`` and
        ``second``; its parameters are ``sql_params(cursor)``."""
        op = "<" if self.descending else ">"
        return f"{first} {op}= %s AND ({first} {op} %s OR {second} {op} %s)"

    def sql_params(self, cursor: str) -> list:
        first, second = self.decode(cursor)
        return [first, first, second]

    def sql_order_by(self, first: str, second: str) -> str:
        direction = " DESC" if self.descending else ""
        return f"{first}{direction}, {second}{direction}"

    def after(self, queryset: QuerySet, cursor: str | None) -> QuerySet:
        if cursor:
            first, second = self.decode(cursor)
            op = "lt" if self.descending else "gt"
            queryset = queryset.filter(**{f"{self.first}__{op}e": first}).filter(
                Q(**{f"{self.first}__{op}": first}) | Q(**{f"{self.second}__{op}": second})
            )
        return queryset.order_by(*self.order_by())


def _value(row, name):
    return row[name] if isinstance(row, dict) else getattr(row, name)


@dataclass
class CursorPage:
    rows: list
    next_cursor: str | None


def page(queryset: QuerySet, ordering: Ordering, cursor: str | None, limit: int) -> CursorPage:
    """One page of ``queryset`` after ``cursor``, in ``ordering``: one query."""
    with compiled_timestamps():
        rows = list(ordering.after(queryset, cursor)[: limit + 1])
    return page_of(rows, ordering, limit)


def page_of(rows: list, ordering: Ordering, limit: int) -> CursorPage:
    """The page of ``rows``, read in ``ordering`` with one row more than ``limit``
    (which tells that there is a next page)."""
    more = len(rows) > limit
    rows = rows[:limit]
    return CursorPage(rows=rows, next_cursor=ordering.encode(rows[-1]) if more and rows else None)


class CompiledPages:
    """Pages of a list whose SQL, for one shape of request (which filters, a cursor
    or not, the page size), differs only in its parameters: compiled by the ORM once
    per shape, from the queryset built with sample values no request gives, then
    sent with each request's values where the samples' were. Building and compiling
    a list's queryset cost more than running it; this keeps the ORM's own SQL (the
    rules stay where they are written) and pays for it once.

    ``build(**fixed, **values)`` gives the list's queryset, as ``.values(...)``;
    ``derived`` are the functions of the values that its parameters are (a value
    itself, a moment later, a LIKE pattern...): each parameter the samples gave is
    matched to the function that gives it from the samples, and one that carries a
    sample but that none gives is refused when compiling (a rule changed under the
    list). The cursor's values are matched by the class itself.

    ``guards(**fixed, **values)``: querysets (if any) that must each find a row for
    the page to be read (a customer chosen is the partner's, say): conditions of the
    page's statement, which then gives a row of nulls instead when one refuses (an
    empty page is told from a refusal in the same statement); ``page`` gives None
    then.

    Every table is named with its schema (``tables``: model to schema name, None for
    the customer's, given to ``page``), so a page needs no SET search_path
    (common.db); a table not named there is refused when compiling."""

    CURSOR_SAMPLE = 2**62 + 7
    # Shapes kept (each a statement of a few kilobytes); the oldest goes first.
    MAX_SHAPES = 256

    def __init__(self, build, ordering: Ordering, derived, *, first_sample, tables: dict, guards=None):
        self.build, self.ordering, self.derived, self.guards = build, ordering, tuple(derived), guards
        self.first_sample = first_sample
        self.tables = {connection.ops.quote_name(model._meta.db_table): schema for model, schema in tables.items()}
        self._templates = {}

    def page(
        self, shape, fixed: dict, values: dict, samples: dict, cursor: str | None, limit: int, *, schema=None
    ) -> CursorPage | None:
        """A page of ``build(**fixed, **values)`` after ``cursor``. ``fixed``: the
        values that change the SQL itself, and ``shape`` whatever else of the values
        does (a search's length); ``samples``: the other values' stand-ins to
        compile it with; ``schema``: the customer's, for its tables."""
        key = (shape, *fixed.items(), cursor is not None, limit)
        template = self._templates.get(key)
        if template is None:
            if len(self._templates) >= self.MAX_SHAPES:
                del self._templates[next(iter(self._templates))]
            template = self._templates[key] = self._compile(fixed, samples, cursor is not None, limit)
        sql, slots, names, guarded = template
        values = {**values, "_after": self.ordering.decode(cursor) if cursor else None}
        with prepared_cursor() as db:
            db.execute(self._in(sql, schema), [value(values) if derived else value for derived, value in slots])
            rows = db.fetchall()
        if guarded:
            second = names.index(self.ordering.second)
            if any(row[second] is None for row in rows):  # the refusal's row
                return None
        return page_of([dict(zip(names, row, strict=True)) for row in rows], self.ordering, limit)

    @staticmethod
    def _in(sql: str, schema: str | None) -> str:
        return sql if schema is None else sql.replace(_CUSTOMER_SCHEMA, connection.ops.quote_name(schema))

    def _compile(self, fixed: dict, samples: dict, with_cursor: bool, limit: int):
        cursor = None
        if with_cursor:
            cursor = self.ordering.encode(
                {self.ordering.first: self.first_sample, self.ordering.second: self.CURSOR_SAMPLE}
            )
        guards = self.guards(**fixed, **samples) if self.guards is not None else []
        queryset = self.build(**fixed, **samples)
        if guards:  # uncorrelated: PostgreSQL asks each once
            queryset = queryset.filter(*(Exists(guard) for guard in guards))
        queryset = self.ordering.after(queryset, cursor)[: limit + 1]
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        names = [alias for _, _, alias in compiler.select]
        samples = {**samples, "_after": (self.first_sample, self.CURSOR_SAMPLE) if with_cursor else None}
        if guards:
            # And one row of nulls when a guard refuses (the page, then, has none).
            compiled = [guard.values("pk").query.get_compiler(connection=connection).as_sql() for guard in guards]
            passed = " AND ".join(f"EXISTS ({guard_sql})" for guard_sql, _ in compiled)
            first, second = (connection.ops.quote_name(name) for name in (self.ordering.first, self.ordering.second))
            order_by = self.ordering.sql_order_by(f"page.{first}", f"page.{second}")
            nulls = ", ".join(["NULL"] * len(names))
            sql = (
                f"SELECT * FROM (({sql}) UNION ALL (SELECT {nulls} WHERE NOT ({passed}))) page "  # noqa: S608 (the ORM's)
                f"ORDER BY {order_by}"
            )
            params = [*params, *(param for _, guard_params in compiled for param in guard_params)]
        return self._qualified(sql), self._slots(params, samples, with_cursor), names, bool(guards)

    def _slots(self, params, samples: dict, with_cursor: bool) -> list:
        derived = [*self.derived]
        if with_cursor:
            derived += [lambda values: values["_after"][0], lambda values: values["_after"][1]]
        given = []
        for function in derived:
            with suppress(KeyError, TypeError, ValueError):  # of a value this shape has not
                given.append((function, function(samples)))
        slots = []
        for param in params:
            function = next((f for f, sample in given if isinstance(param, type(sample)) and sample == param), None)
            if function is not None and type(param) is not type(function(samples)):
                # A type the backend gives the value (psycopg's Int4 for an IntegerField): given it too.
                function = _as(type(param), function)
            if function is not None:
                slots.append((True, function))
            elif _carries(param, samples.values()):
                raise ValueError(f"A parameter of the list's SQL carries a sample but no function gives it: {param!r}")
            else:
                slots.append((False, param))
        return slots

    def _qualified(self, sql: str) -> str:
        def qualified(match):
            word, table = match.groups()
            if table not in self.tables:
                raise ValueError(f"The list's SQL reads {table}, whose schema is not known.")
            schema = self.tables[table]
            return f"{word} {connection.ops.quote_name(schema) if schema else _CUSTOMER_SCHEMA}.{table}"

        return _TABLE.sub(qualified, sql)


_CUSTOMER_SCHEMA = "\x00schema\x00"
# A table the ORM names without its schema (not followed by ".": "schema"."table").
_TABLE = re.compile(r'\b(FROM|JOIN) ("[^"]+")(?!\.)')


def _as(kind, function):
    return lambda values: kind(function(values))


def _carries(param, samples) -> bool:
    for sample in samples:
        if sample is None or sample == "" or isinstance(sample, bool):
            continue
        if param == sample or (isinstance(sample, str) and isinstance(param, str) and sample in param):
            return True
        if isinstance(sample, tuple) and _carries(param, sample):
            return True
    return False
