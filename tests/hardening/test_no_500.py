"""Every URL of the product, walked as every kind of visitor with malformed ids,
tokens, query strings and form fields: a clear answer (a page, a redirect, 400, 403,
404, 405), never a 5xx."""

import re
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.builders import enter_manage_mode

MALFORMED = ["\x00", "x" * 3000, "é😀\u202e", "-1", "99999999999999999999999"]
CHANGE_THE_VISITOR = {"accounts/logout/", "partner/manage/exit/"}
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
FIELDS = [
    "q",
    "page",
    "licence",
    "mode",
    "column",
    "order",
    "expected",
    "learner",
    "select_all",
    "quantity",
    "return_query",
    "email",
    "name",
    "file",
    "filters",
    "customer",
    "status",
    "requested_by",
    "requested_after",
    "requested_before",
    "quantity_min",
    "quantity_max",
    "back",
    # Activity (insight.filters) and its keyset pages.
    "who",
    "kind",
    "date_from",
    "date_to",
    "before",
    "after",
]


def routes(patterns=None, prefix=""):
    """Every route of the project but Django's admin, as written in the URLconf."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if route.startswith("admin/"):
            continue
        if isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def requests_of(route):
    """(path, malformed value) for each malformed value: the route with its
    parameters forged with that value (huge and negative numbers for ids; NUL, very
    long and non-ASCII text for tokens); the value is sent in every field too."""
    return [("/" + PARAMETER.sub(quote(value, safe=""), route), value) for value in MALFORMED]


def visitors(world):
    return {
        "anonymous": None,
        "partner manager": (world["alice"], None),
        "in manage mode": (world["alice"], world["acme"]),
        "customer manager": (world["dana"], None),
        "learner": (world["lena"], None),
    }


def test_routes_are_found():
    found = list(routes())
    assert "learners/<int:learner_id>/deactivate/" in found
    assert "licences/expired/import-allocation/<token:token>/renew/" in found
    assert len(found) > 25


@pytest.mark.parametrize("visitor", ["anonymous", "partner manager", "in manage mode", "customer manager", "learner"])
def test_no_url_answers_a_malformed_request_with_a_5xx(client, world, visitor):
    who = visitors(world)[visitor]
    if who is not None:
        client.force_login(who[0])
        if who[1] is not None:
            enter_manage_mode(client, who[1])
    failures = []
    # Sign out and Exit change who the next request comes from: they go last.
    for route in sorted(routes(), key=lambda route: route in CHANGE_THE_VISITOR):
        for path, value in requests_of(route):
            query = dict.fromkeys(FIELDS, value)
            for method in (client.get, client.post):
                response = method(path, query)
                if response.status_code >= 500:
                    failures.append((method.__name__, path[:80], repr(value[:10]), response.status_code))
    assert failures == []
