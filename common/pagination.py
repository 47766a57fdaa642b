"""Pagination without COUNT(*): a page fetches one row more than it shows to know
whether a next page exists, so its cost does not grow with the table."""

import base64
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import QueryDict


@dataclass
class Page:
    object_list: list
    number: int
    per_page: int
    has_next: bool
    query: QueryDict

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)

    def _url(self, number: int) -> str:
        query = self.query.copy()
        query["page"] = number
        return "?" + query.urlencode()

    @property
    def next_url(self) -> str:
        return self._url(self.number + 1)

    @property
    def previous_url(self) -> str:
        return self._url(self.number - 1)

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)


MAX_PAGE = 10_000


@dataclass(frozen=True)
class PageWindow:
    """The rows a page asks for: ``limit`` from ``offset`` on, one more than it shows."""

    number: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def limit(self) -> int:
        return self.per_page + 1

    def page(self, rows: list, query: QueryDict) -> Page:
        """The page, from the rows read for this window."""
        return Page(
            object_list=rows[: self.per_page],
            number=self.number,
            per_page=self.per_page,
            has_next=len(rows) > self.per_page,
            query=query,
        )


def requested_window(request, per_page: int | None = None) -> PageWindow:
    """The window of the page the query string asks for (``?page=N``), for a page read
    some other way than ``paginate`` (the Licences overview's, with other figures)."""
    try:
        number = min(max(int(request.GET.get("page", 1)), 1), MAX_PAGE)
    except ValueError:
        number = 1
    return PageWindow(number, per_page or settings.PAGE_SIZE)


def paginate(request, queryset, per_page: int | None = None) -> Page:
    window = requested_window(request, per_page)
    return window.page(list(queryset[window.offset : window.offset + window.limit]), request.GET)


# --- Keyset pagination: deep pages as fast as the first ------------------------------------
#
# Next and Previous carry the sort keys of the row the page starts after (``after``) or
# ends before (``before``), so a deep page is an index range scan from that row instead
# of OFFSET reading and dropping every row before it. No row shows twice or goes missing
# between pages when rows share a sort value: the keys end with the primary key. The
# page number (``page``) is only the label "Showing 391–400"; a bookmarked ``?page=N``
# without a cursor still works, by OFFSET.


def _encode(values) -> str:
    raw = json.dumps([str(value) for value in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str, count: int) -> list[str] | None:
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        return None
    if not isinstance(values, list) or len(values) != count or not all(isinstance(v, str) for v in values):
        return None
    return values


def _beyond(keys, values, *, forward: bool) -> Q:
    """Rows after (``forward``) or before the row with these key values, in the order
    ``keys`` (``-name`` descending). The first key's own bound comes first so that the
    index on it gives the scan its start."""
    condition = Q()
    for depth in range(len(keys) - 1, -1, -1):
        name = keys[depth].lstrip("-")
        ahead = keys[depth].startswith("-") != forward  # True: greater values come next
        step = Q(**{f"{name}__{'gt' if ahead else 'lt'}": values[depth]})
        condition = step if depth == len(keys) - 1 else step | (Q(**{name: values[depth]}) & condition)
    first = keys[0].lstrip("-")
    ahead = keys[0].startswith("-") != forward
    return Q(**{f"{first}__{'gte' if ahead else 'lte'}": values[0]}) & condition


@dataclass
class KeysetPage(Page):
    keys: tuple = ()
    has_earlier: bool = False

    @property
    def has_previous(self) -> bool:
        return self.has_earlier

    def _value(self, row, name):
        return row[name] if isinstance(row, dict) else getattr(row, name)

    def _cursor_url(self, param: str, row, number: int) -> str:
        query = self.query.copy()
        for name in ("page", "after", "before"):
            query.pop(name, None)
        query[param] = _encode(self._value(row, key.lstrip("-")) for key in self.keys)
        query["page"] = number
        return "?" + query.urlencode()

    @property
    def next_url(self) -> str:
        return self._cursor_url("after", self.object_list[-1], self.number + 1)

    @property
    def previous_url(self) -> str:
        if self.number <= 2 or not self.object_list:
            # The first page, or (past the end of a bookmarked ?page=N) the page before by number.
            query = self.query.copy()
            for name in ("page", "after", "before"):
                query.pop(name, None)
            if self.number > 2:
                query["page"] = self.number - 1
            return "?" + query.urlencode()
        return self._cursor_url("before", self.object_list[0], self.number - 1)


def paginate_keyset(request, queryset, keys: tuple[str, ...], per_page: int | None = None) -> KeysetPage:
    """A page of ``queryset`` sorted by ``keys`` (field names, ``-`` for descending,
    the last one unique: the primary key), found from the cursor in the query string.
    Values and model instances alike; one query whatever the page."""
    per_page = per_page or settings.PAGE_SIZE
    try:
        number = min(max(int(request.GET.get("page", 1)), 1), MAX_PAGE)
    except ValueError:
        number = 1
    ordered = queryset.order_by(*keys)
    token, forward = request.GET.get("after"), True
    if not token and request.GET.get("before"):
        token, forward = request.GET["before"], False
    values = _decode(token, len(keys)) if token else None
    rows = None
    if values is not None:
        try:
            if forward:
                rows = list(ordered.filter(_beyond(keys, values, forward=True))[: per_page + 1])
                has_next, has_earlier = len(rows) > per_page, number > 1
                rows = rows[:per_page]
            else:
                reverse = [key[1:] if key.startswith("-") else f"-{key}" for key in keys]
                rows = list(queryset.order_by(*reverse).filter(_beyond(keys, values, forward=False))[: per_page + 1])
                has_earlier, has_next = len(rows) > per_page, True
                rows = rows[:per_page][::-1]
                if not has_earlier:
                    number = 1
        except (ValueError, TypeError, ValidationError):
            rows = None  # a tampered cursor: the page by its number
    if rows is None:
        offset = (number - 1) * per_page
        rows = list(ordered[offset : offset + per_page + 1])
        has_next, has_earlier = len(rows) > per_page, number > 1
        rows = rows[:per_page]
    return KeysetPage(
        object_list=rows,
        number=number,
        per_page=per_page,
        has_next=has_next,
        query=request.GET,
        keys=tuple(keys),
        has_earlier=has_earlier,
    )
