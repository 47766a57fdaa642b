"""Searches through the trigram indexes (common/search.py) give exactly what a plain
contains-search gives, and keyset pages (common.pagination) show every row once, in
a fixed number of queries whatever the size."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from learners import reads
from learners.models import Learner
from tests.builders import (
    REQUESTED_ORDERS,
    Statements,
    assigned_order,
    expired_learners_of,
    next_url,
    order_for,
    prev_url,
)

EXPIRED = "/licences/expired/"
LEARNERS = "/learners/"

NAMES = [
    ("ann.o'brien@acme.test", "Ann O'Brien"),
    ("bo_b@acme.test", "Bob 100% Sure"),
    ("carla@acme.test", "Carla Ünal"),
    ("dan%d@acme.test", "Dan Back\\slash"),
    ("eve@north.acme.test", "EVE North"),
    ("x@acme.test", "Xi"),
]


@pytest.fixture
def learners(acme):
    with acme:
        Learner.objects.bulk_create(Learner(email=email, name=name) for email, name in NAMES)
    return acme


@pytest.mark.parametrize(
    "term",
    [
        "a",
        "X",
        "xi",
        "o'b",
        "O'BRIEN",
        "_",
        "%",
        "100%",
        "o_b",
        "\\",
        "ünal",
        "ÜNAL",
        "north",
        "acme.test",
        "zzz",
        "ea",
    ],
)
def test_search_finds_what_a_plain_contains_finds(learners, term):
    with learners:
        found = set(Learner.objects.filter(reads.matching(term)).values_list("email", flat=True))
    folded = term.lower()
    assert found == {email for email, name in NAMES if folded in email or folded in name.lower()}


def test_long_searches_go_through_the_trigram_index(learners):
    with learners, connection.cursor() as cursor:
        # Tiny tables: the planner is told to leave out the plain scans, which it would
        # rightly prefer here (at 100,000 learners: benchmarks/expired_tab.py).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = Learner.objects.filter(reads.matching("north")).query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "learner_email_trigrams" in plan and "learner_name_trigrams" in plan


def test_the_function_is_public_and_the_customers_schema_has_the_indexes(learners):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pronamespace::regnamespace::text FROM pg_proc WHERE proname = 'trigrams'")
        assert [row[0] for row in cursor.fetchall()] == ["public"]
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND indexname LIKE '%%trigrams'",
            [learners.schema_name],
        )
        assert sorted(row[0] for row in cursor.fetchall()) == ["learner_email_trigrams", "learner_name_trigrams"]


def ids(response):
    return [row["id"] if isinstance(row, dict) else row.pk for row in response.context["page"]]


def walk(client, url):
    """Every page's ids from the first, by Next; and back again by Previous."""
    response = client.get(url)
    pages = [ids(response)]
    while 'rel="next"' in response.content.decode():
        response = client.get(url.split("?")[0] + next_url(response))
        pages.append(ids(response))
    back = [ids(response)]
    while 'rel="prev"' in response.content.decode():
        response = client.get(url.split("?")[0] + prev_url(response))
        back.append(ids(response))
    return pages, back[::-1]


def test_requested_orders_pages_with_ties_show_every_order_once(client, world, settings):
    settings.PAGE_SIZE = 3
    moments = [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)]
    orders = [order_for(world["acme"], world["dana"], n + 1, requested_at=moments[n % 2 and n > 3]) for n in range(11)]
    client.force_login(world["alice"])
    pages, back = walk(client, REQUESTED_ORDERS)
    flat = [pk for page in pages for pk in page]
    expected = [o.pk for o in sorted(orders, key=lambda o: (o.requested_at, o.pk), reverse=True)]
    assert flat == expected and len(pages) == 4
    assert back == pages  # Previous shows the same pages


def test_expired_pages_and_a_search_show_every_learner_once(client, world, settings):
    settings.PAGE_SIZE = 4
    expired_learners_of(world["acme"], 10, world["alice"], prefix="gone")
    assigned_order(world["acme"], 5, world["alice"])  # a valid order: the Learners list is open
    client.force_login(world["dana"])
    pages, back = walk(client, f"{EXPIRED}?q=gone0")
    flat = [pk for page in pages for pk in page]
    with world["acme"]:
        expected = list(reads.expired_learners("gone0").values_list("pk", flat=True))
    assert flat == expected and len(expected) == 10 and back == pages
    assert walk(client, f"{LEARNERS}?q=GONE")[0] == [expected[:4], expected[4:8], expected[8:]]


def test_a_tampered_cursor_is_ignored(client, world, settings):
    settings.PAGE_SIZE = 4
    expired_learners_of(world["acme"], 6, world["alice"])
    client.force_login(world["dana"])
    by_number = ids(client.get(EXPIRED, {"page": 2}))
    for cursor in ["nonsense", "WyJ4Il0", "WyJhIiwiYiJd", "W10", "eyJhIjoxfQ"]:
        response = client.get(EXPIRED, {"after": cursor, "page": 2})
        assert response.status_code == 200
        assert ids(response) == by_number  # the page by its number, as a bookmark


@pytest.mark.parametrize("url", [f"{EXPIRED}?q=many0", f"{LEARNERS}?q=many0", REQUESTED_ORDERS])
def test_deep_pages_cost_the_same_queries_at_two_sizes(client, world, settings, url):
    settings.PAGE_SIZE = 2

    def deep_page_queries():
        response = client.get(url)
        for _ in range(2):
            response = client.get(url.split("?")[0] + next_url(response))
        with Statements() as captured:
            assert client.get(url.split("?")[0] + next_url(response)).status_code == 200
        return len(captured.statements)

    def grow(start, count):
        expired_learners_of(world["acme"], count, world["alice"], prefix=f"many{start}")
        for n in range(count):
            order_for(world["acme"], world["dana"], n + 1)

    assigned_order(world["acme"], 5, world["alice"])  # a valid order: the Learners list is open
    grow(0, 10)
    client.force_login(world["alice" if url == REQUESTED_ORDERS else "dana"])
    small = deep_page_queries()
    grow(1, 60)
    assert deep_page_queries() == small
