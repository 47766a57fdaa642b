"""Pagination without COUNT(*): a page fetches one row more than it shows to know
whether a next page exists, so its cost does not grow with the table."""

from dataclasses import dataclass

from django.conf import settings
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


def paginate(request, queryset, per_page: int | None = None) -> Page:
    per_page = per_page or settings.PAGE_SIZE
    try:
        number = min(max(int(request.GET.get("page", 1)), 1), MAX_PAGE)
    except ValueError:
        number = 1
    offset = (number - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    return Page(
        object_list=rows[:per_page],
        number=number,
        per_page=per_page,
        has_next=len(rows) > per_page,
        query=request.GET,
    )
