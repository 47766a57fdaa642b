"""Requested Orders: paginated newest first, without COUNT(*), keeping the filters."""

import re
from datetime import UTC, datetime, timedelta

from tests.builders import REQUESTED_ORDERS, listed_ids, next_url, order_for, prev_url


def test_pages_newest_first_and_keep_the_filters(client, world, settings):
    settings.PAGE_SIZE = 3
    start = datetime(2026, 1, 1, tzinfo=UTC)
    orders = [order_for(world["acme"], world["dana"], n + 1, requested_at=start + timedelta(days=n)) for n in range(7)]
    order_for(world["globex"], world["erin"], 1)  # filtered out
    newest_first = [o.pk for o in reversed(orders)]
    client.force_login(world["alice"])
    base = {"customer": world["acme"].pk}

    first = client.get(REQUESTED_ORDERS, base)
    assert listed_ids(first) == newest_first[:3]
    page = first.content.decode()
    # Next carries the filters and a cursor (common.pagination's keyset), then the label.
    assert re.search(rf'href="\?customer={world["acme"].pk}&amp;after=[\w-]+&amp;page=2" rel="next"', page)
    assert 'rel="prev"' not in page

    second = client.get(REQUESTED_ORDERS + next_url(first))
    assert listed_ids(second) == newest_first[3:6]
    assert 'rel="prev"' in second.content.decode()

    last = client.get(REQUESTED_ORDERS + next_url(second))
    assert listed_ids(last) == newest_first[6:]
    assert 'rel="next"' not in last.content.decode()
    # Previous goes back through the same rows.
    assert listed_ids(client.get(REQUESTED_ORDERS + prev_url(last))) == newest_first[3:6]
    # A bookmarked page number without a cursor still works.
    assert listed_ids(client.get(REQUESTED_ORDERS, {**base, "page": 2})) == newest_first[3:6]


def test_same_moment_orders_are_ordered_by_number(client, world):
    moment = datetime(2026, 2, 1, tzinfo=UTC)
    first = order_for(world["acme"], world["dana"], 1, requested_at=moment)
    second = order_for(world["acme"], world["dana"], 2, requested_at=moment)
    client.force_login(world["alice"])
    assert listed_ids(client.get(REQUESTED_ORDERS)) == [second.pk, first.pk]


def test_page_past_the_end_is_empty_not_an_error(client, world):
    order_for(world["acme"], world["dana"], 1)
    client.force_login(world["alice"])
    for page in ["99", "abc", "-3"]:
        assert client.get(REQUESTED_ORDERS, {"page": page}).status_code == 200


def test_no_count_query(client, world):
    from tests.builders import page_queries

    order_for(world["acme"], world["dana"], 1)
    client.force_login(world["alice"])
    assert not any("COUNT(" in sql.upper() for sql in page_queries(client, REQUESTED_ORDERS))
