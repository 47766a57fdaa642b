"""The partner's Company, Requested Orders and Upcoming expiries pages run the same
queries at 2,000 customers as at 20. They read public tables only, so the customers
here are rows without schemas, made in bulk."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from licences.models import LicenceOrder, OrderStatus
from tests.builders import Statements

# Each page, and the customer its first page shows at a given count: by name, or
# (Requested Orders) the newest order's.
PAGES = [
    pytest.param("licences:companies", "", lambda count: 1, id="Company"),
    pytest.param("licences:partner_orders", "", lambda count: count, id="Requested Orders"),
    # Add Filter open: every customer is a choice.
    pytest.param("licences:partner_orders", "?filters=open", lambda count: count, id="Requested Orders, Add Filter"),
    pytest.param("notifications:upcoming_expiries", "", lambda count: 1, id="Upcoming expiries"),
]


def add_customers(partner, requester, first, last):
    """Customers ``first`` to ``last``, each with a requested order and an assigned one
    expiring in 10 days (listed on Upcoming expiries)."""
    now = timezone.now()
    customers = Customer.objects.bulk_create(
        Customer(name=f"Customer {n:04d}", partner=partner, schema_name=f"scale_{n}") for n in range(first, last + 1)
    )
    LicenceOrder.objects.bulk_create(
        order
        for customer in customers
        for order in (
            LicenceOrder(customer=customer, quantity=10, requested_by=requester),
            LicenceOrder(
                customer=customer,
                quantity=20,
                status=OrderStatus.ASSIGNED,
                requested_by=requester,
                assigned_by=requester,
                assigned_at=now - timedelta(days=355),
                expires_at=now + timedelta(days=10),
            ),
        )
    )


def visit(client, url):
    with Statements() as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), captured.statements, captured.search_paths


@pytest.mark.parametrize(("name", "query", "first_listed"), PAGES)
def test_the_same_queries_at_2000_customers_as_at_20(client, alice, name, query, first_listed):
    url = reverse(name) + query
    client.force_login(alice)
    add_customers(alice.partner, alice, 1, 20)
    client.get(url)  # the session row exists from here on
    html_20, at_20, paths_20 = visit(client, url)

    add_customers(alice.partner, alice, 21, 2_000)
    html_2000, at_2000, paths_2000 = visit(client, url)

    assert len(at_2000) == len(at_20), at_2000
    assert f"Customer {first_listed(20):04d}" in html_20
    assert f"Customer {first_listed(2_000):04d}" in html_2000
    # Public tables only: no tenant schema on the path, none named in a query.
    assert paths_20 == paths_2000 == {'SET search_path = "public"'}, paths_2000
    assert not any("scale_" in sql for sql in at_2000)
