"""Requested Orders, Add Filter: each filter, their combination, kept in the URL."""

from datetime import UTC, datetime

import pytest

from tests.builders import REQUESTED_ORDERS, listed_ids, order_for


def at(day, hour=12):
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def orders(world):
    """Partner A's orders, named by what tells them apart; partner B has one too."""
    w = world
    return {
        "acme_dana_5": order_for(w["acme"], w["dana"], 5, requested_at=at(1)),
        "acme_alice_50": order_for(w["acme"], w["alice"], 50, requested_at=at(5)),
        "globex_erin_20": order_for(w["globex"], w["erin"], 20, requested_at=at(10)),
        "globex_bob_500": order_for(w["globex"], w["bob"], 500, requested_at=at(15)),
        "acme_dana_assigned": order_for(w["acme"], w["dana"], 30, requested_at=at(2), status="assigned"),
        "globex_erin_cancelled": order_for(w["globex"], w["erin"], 40, requested_at=at(3), status="cancelled"),
        "initech": order_for(w["initech"], w["frank"], 60, requested_at=at(4)),
    }


def ids(orders, *names):
    return [orders[name].pk for name in names]


def listed(client, **params):
    return listed_ids(client.get(REQUESTED_ORDERS, params))


@pytest.fixture
def as_alice(client, world):
    client.force_login(world["alice"])
    return client


def test_default_is_requested_orders_newest_first(as_alice, orders):
    assert listed(as_alice) == ids(orders, "globex_bob_500", "globex_erin_20", "acme_alice_50", "acme_dana_5")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("assigned", ["acme_dana_assigned"]),
        ("cancelled", ["globex_erin_cancelled"]),
        (
            "any",
            [
                "globex_bob_500",
                "globex_erin_20",
                "acme_alice_50",
                "globex_erin_cancelled",
                "acme_dana_assigned",
                "acme_dana_5",
            ],
        ),
    ],
)
def test_by_status(as_alice, orders, status, expected):
    assert listed(as_alice, status=status) == ids(orders, *expected)


def test_by_customer(as_alice, world, orders):
    assert listed(as_alice, customer=world["acme"].pk) == ids(orders, "acme_alice_50", "acme_dana_5")


def test_by_requested_date_range(as_alice, orders):
    assert listed(as_alice, requested_from="2026-03-05", requested_to="2026-03-10") == ids(
        orders, "globex_erin_20", "acme_alice_50"
    )
    assert listed(as_alice, requested_from="2026-03-06") == ids(orders, "globex_bob_500", "globex_erin_20")
    assert listed(as_alice, requested_to="2026-03-04") == ids(orders, "acme_dana_5")


def test_requested_dates_are_the_customers_calendar_days(as_alice, world):
    """23:30 UTC on 9 March is already 10 March in Berlin (globex), still 9 March in London."""
    late = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)
    globex = order_for(world["globex"], world["erin"], 1, requested_at=late)
    acme = order_for(world["acme"], world["dana"], 1, requested_at=late)
    assert listed(as_alice, requested_from="2026-03-10", requested_to="2026-03-10") == [globex.pk]
    assert listed(as_alice, requested_from="2026-03-09", requested_to="2026-03-09") == [acme.pk]


def test_by_quantity_range(as_alice, orders):
    assert listed(as_alice, quantity_min=20, quantity_max=50) == ids(orders, "globex_erin_20", "acme_alice_50")
    assert listed(as_alice, quantity_min=100) == ids(orders, "globex_bob_500")
    assert listed(as_alice, quantity_max=5) == ids(orders, "acme_dana_5")


def test_by_requester(as_alice, world, orders):
    assert listed(as_alice, requester=world["bob"].pk) == ids(orders, "globex_bob_500")
    assert listed(as_alice, requester=world["alice"].pk) == ids(orders, "acme_alice_50")
    assert listed(as_alice, requester="customers") == ids(orders, "globex_erin_20", "acme_dana_5")


def test_filters_combine(as_alice, world, orders):
    assert listed(as_alice, customer=world["globex"].pk, requester="customers", status="any") == ids(
        orders, "globex_erin_20", "globex_erin_cancelled"
    )
    assert listed(
        as_alice,
        customer=world["globex"].pk,
        status="any",
        quantity_min=30,
        requested_from="2026-03-01",
        requested_to="2026-03-12",
    ) == ids(orders, "globex_erin_cancelled")
    assert listed(as_alice, customer=world["acme"].pk, requester=world["bob"].pk) == []


def test_active_filters_are_shown_as_chips_with_links_that_remove_them(as_alice, world, orders):
    response = as_alice.get(REQUESTED_ORDERS, {"customer": world["acme"].pk, "quantity_min": "10", "page": "1"})
    page = response.content.decode()
    assert "Customer: <strong>Acme Manufacturing</strong>" in page
    assert "Licences from: <strong>10</strong>" in page
    # Each chip's link keeps the other filters (and drops the page number).
    assert 'href="?quantity_min=10" class="chip-remove" aria-label="Remove filter Customer"' in page
    assert f'href="?customer={world["acme"].pk}" class="chip-remove" aria-label="Remove filter Licences from"' in page
    assert 'href="/partner/licences/orders/" class="small">Clear all filters</a>' in page
    assert listed_ids(response) == ids(orders, "acme_alice_50")


def test_status_chip_only_when_not_the_default(as_alice, orders):
    assert "Status: " not in as_alice.get(REQUESTED_ORDERS).content.decode()
    assert "Status: <strong>Any status</strong>" in as_alice.get(REQUESTED_ORDERS, {"status": "any"}).content.decode()


def test_filtered_list_is_a_url_that_can_be_shared(client, world, orders):
    """The filters live in the query string: another manager opening the same link sees
    the same list, and Assign returns to it."""
    url = f"{REQUESTED_ORDERS}?customer={world['globex'].pk}&quantity_max=100"
    client.force_login(world["alice"])
    seen_by_alice = listed_ids(client.get(url))
    client.force_login(world["bob"])
    assert listed_ids(client.get(url)) == seen_by_alice == ids(orders, "globex_erin_20")
    page = client.get(url).content.decode()
    assert f'name="return_query" value="customer={world["globex"].pk}&amp;quantity_max=100"' in page


def test_add_filter_opens_the_form_with_current_values(as_alice, world, orders):
    closed = as_alice.get(REQUESTED_ORDERS, {"customer": world["acme"].pk}).content.decode()
    assert 'id="order-filters"' not in closed
    assert (
        f'href="?customer={world["acme"].pk}&amp;filters=open"><span aria-hidden="true">+</span> Add Filter</a>'
        in closed
    )

    opened = as_alice.get(REQUESTED_ORDERS, {"customer": world["acme"].pk, "filters": "open"}).content.decode()
    assert 'id="order-filters"' in opened
    # The picker shows the chosen customer, by name, with its id.
    assert f'name="customer" value="{world["acme"].pk}"' in opened
    assert 'name="customer_name" value="Acme Manufacturing"' in opened
    for label in [
        "Customer",
        "Status",
        "Requested from",
        "Requested to",
        "Licences from",
        "Licences to",
        "Requested by",
    ]:
        assert f">{label}</label>" in opened
    assert '<option value="customers">Customer managers</option>' in opened
    assert f'<option value="{world["bob"].pk}">Bob</option>' in opened


def test_add_filter_form_alone_for_scripts(as_alice, world):
    response = as_alice.get(REQUESTED_ORDERS, {"filters": "open"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.startswith("<form") and "<html" not in page
    # A search box for the customer, not every customer as an option.
    assert "data-customer-picker" in page and "Acme Manufacturing" not in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "lost"}, "Choose a status from the list."),
        ({"quantity_min": "1.5"}, "Enter a whole number."),
        ({"quantity_min": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"quantity_min": "9", "quantity_max": "3"}, "The smallest number of licences must not be above the largest."),
        (
            {"requested_from": "2026-03-09", "requested_to": "2026-03-01"},
            "The start date must not be after the end date.",
        ),
        ({"requested_from": "yesterday"}, "Enter a valid date."),
        ({"requested_to": "9999-12-31"}, "Enter a date between 1 Jan 2000 and 31 Dec 2999."),
    ],
)
def test_invalid_filters_say_what_is_wrong_and_list_nothing(as_alice, orders, params, message):
    response = as_alice.get(REQUESTED_ORDERS, params)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'id="order-filters"' in page  # the form is open on the mistake
    assert listed_ids(response) == []
