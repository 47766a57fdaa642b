"""Cursor pagination: a page is the rows after the last one of the previous page, in
the list's order, found through the index that orders it; no OFFSET, no COUNT, so a
page costs the same at row 10 and at row 100,000.

A cursor is the last row's sort key (two columns, the second unique) in opaque
base64. The condition ``a <= x AND (a < x OR b < y)`` (for a descending list) gives
the index a range on ``a`` and leaves only ties to filter."""

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from api.problems import validation_problem
from common.db import compiled_timestamps

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
