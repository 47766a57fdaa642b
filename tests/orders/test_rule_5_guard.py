"""Rule 5 in the customer pages' guard: one query reads the valid orders and whether
the customer has had assigned orders at all, whatever it holds."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from licences.services import valid_orders_and_expired
from tests.builders import assigned_order, move_expiry, order_for


def test_no_orders_is_not_expired(acme):
    assert valid_orders_and_expired(acme) == ([], False)


def test_a_requested_order_alone_is_not_expired(acme, alice):
    order_for(acme, alice)
    assert valid_orders_and_expired(acme) == ([], False)


def test_only_expired_orders_is_expired(acme, alice):
    for _ in range(2):
        order = assigned_order(acme, 3, alice)
        move_expiry(acme, order, timezone.now() - timedelta(days=1))
    assert valid_orders_and_expired(acme) == ([], True)


def test_valid_orders_are_returned_beside_expired_ones(acme, alice):
    old = assigned_order(acme, 3, alice)
    move_expiry(acme, old, timezone.now() - timedelta(days=1))
    valid = assigned_order(acme, 5, alice)
    orders, expired = valid_orders_and_expired(acme)
    assert [o.pk for o in orders] == [valid.pk] and not expired


@pytest.mark.parametrize("holding", ["nothing", "expired", "valid"])
def test_the_guard_costs_one_query_whatever_the_customer_holds(client, dana, acme, alice, holding):
    if holding != "nothing":
        order = assigned_order(acme, 3, alice)
        if holding == "expired":
            move_expiry(acme, order, timezone.now() - timedelta(days=1))
    client.force_login(dana)
    client.get("/activity/")  # warm: the session row
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/activity/")
    orders_read = [q for q in captured.captured_queries if '"licences_licenceorder"' in q["sql"]]
    assert len(orders_read) == 1
    assert response.status_code == (302 if holding == "expired" else 200)


def test_valid_orders_come_newest_requested_first(acme, alice):
    """As the model orders them (the pages listing seat sources read them so)."""
    orders = [assigned_order(acme, 3, alice) for _ in range(3)]
    assert [o.pk for o in valid_orders_and_expired(acme)[0]] == [o.pk for o in reversed(orders)]
