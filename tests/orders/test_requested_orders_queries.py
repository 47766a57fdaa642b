"""Requested Orders runs a fixed number of SQL queries whatever the number of rows."""

import pytest

from tests.builders import REQUESTED_ORDERS, order_for, page_queries


def fill(world, count):
    people = [(world["acme"], world["dana"]), (world["globex"], world["erin"]), (world["acme"], world["alice"])]
    for n in range(count):
        customer, requester = people[n % 3]
        order_for(customer, requester, n + 1, status="assigned" if n % 4 == 0 else "requested")


@pytest.mark.parametrize(
    ("params", "queries"),
    [
        # session, user with the manager's partner (sign-in checks), one page of orders
        ({}, 3),
        ({"status": "any"}, 3),
        # + checking the customer id is one of the partner's
        ({"status": "any", "customer": "acme", "quantity_min": "2"}, 4),
        # + the partner's managers, the requester choices
        ({"status": "any", "requester": "customers", "requested_from": "2020-01-01"}, 4),
        # + the managers, for the form (the customer is a search box, not a list)
        ({"filters": "open"}, 4),
    ],
)
def test_same_queries_with_3_and_30_orders(client, world, params, queries):
    client.force_login(world["alice"])
    params = {k: (world["acme"].pk if v == "acme" else v) for k, v in params.items()}
    url = f"{REQUESTED_ORDERS}?" + "&".join(f"{k}={v}" for k, v in params.items())

    fill(world, 3)
    with_three = page_queries(client, url)
    fill(world, 27)
    with_thirty = page_queries(client, url)

    assert len(with_three) == len(with_thirty) == queries, with_thirty


def test_exact_query_count_with_django_assert_num_queries(client, world, django_assert_num_queries):
    fill(world, 30)
    client.force_login(world["alice"])
    client.get(REQUESTED_ORDERS)  # warm up: the sign-in's session row exists
    # 3 queries, and one SET search_path: the page stays in the public schema, and
    # django-tenants sends it again only when the schema changes (TENANT_LIMIT_SET_CALLS).
    with django_assert_num_queries(4):
        client.get(REQUESTED_ORDERS)
