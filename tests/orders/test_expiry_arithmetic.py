"""Assign: valid for 12 calendar months from the moment of assignment, on the
customer's calendar, stored in UTC and shown in the customer's time zone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from licences.services import add_calendar_months, assign_order, licence_expiry, request_order
from tests.builders import REQUESTED_ORDERS

LONDON, NEW_YORK, BERLIN = ZoneInfo("Europe/London"), ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")


def assign_at(moment, customer, manager):
    order = request_order(customer, 5, acting_user=manager, in_manage_mode=True)
    with time_machine.travel(moment, tick=False):
        assign_order(order.pk, acting_user=manager)
    order.refresh_from_db()
    return order


def test_ordinary_date(alice, acme):
    order = assign_at(datetime(2026, 5, 14, 9, 30, tzinfo=UTC), acme, alice)  # 10:30 BST
    assert order.assigned_at == datetime(2026, 5, 14, 9, 30, tzinfo=UTC)
    assert order.expires_at == datetime(2027, 5, 14, 9, 30, tzinfo=UTC)
    assert order.expires_at.tzinfo == UTC  # stored in UTC


def test_29_february_expires_on_28_february(alice, acme):
    order = assign_at(datetime(2028, 2, 29, 10, 0, tzinfo=UTC), acme, alice)
    assert order.expires_at == datetime(2029, 2, 28, 10, 0, tzinfo=UTC)


def test_the_customers_calendar_decides_the_day(alice, world):
    """03:00 UTC on 29 February 2028 is still 28 February, 22:00, in New York: that
    customer's order expires on 28 February 2029 at 22:00 New York time."""
    initech, charlie = world["initech"], world["charlie"]
    order = assign_at(datetime(2028, 2, 29, 3, 0, tzinfo=UTC), initech, charlie)
    assert order.expires_at.astimezone(NEW_YORK) == datetime(2029, 2, 28, 22, 0, tzinfo=NEW_YORK)
    assert order.expires_at == datetime(2029, 3, 1, 3, 0, tzinfo=UTC)


def test_near_a_dst_change_the_local_time_is_kept(alice, acme):
    """Assigned at noon GMT on 29 March 2025; 29 March 2026 is the day London moves to
    BST, so the order expires at noon BST, 11:00 UTC: 12 months on the wall clock."""
    order = assign_at(datetime(2025, 3, 29, 12, 0, tzinfo=UTC), acme, alice)
    assert order.expires_at == datetime(2026, 3, 29, 11, 0, tzinfo=UTC)
    assert order.expires_at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M %Z") == "2026-03-29 12:00 BST"


def test_a_local_time_that_does_not_exist_a_year_later_moves_forward(alice, acme):
    """01:30 on 30 March 2025 does not exist in London (clocks jump 01:00 → 02:00):
    an order assigned at 01:30 GMT on 30 March 2024 expires at 02:30 BST."""
    order = assign_at(datetime(2024, 3, 30, 1, 30, tzinfo=UTC), acme, alice)
    assert order.expires_at == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert order.expires_at.astimezone(LONDON).strftime("%H:%M %Z") == "02:30 BST"


def test_autumn_change_in_berlin(bob, globex):
    """Assigned 26 October 2024 at 01:30 UTC (03:30 CEST). Berlin's clocks go back at
    03:00 on 26 October 2025, so 03:30 that day is CET: 02:30 UTC, same wall clock."""
    order = assign_at(datetime(2024, 10, 26, 1, 30, tzinfo=UTC), globex, bob)
    assert order.expires_at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") == "2025-10-26 03:30"
    assert order.expires_at == datetime(2025, 10, 26, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 1, 31, 12, tzinfo=UTC), 1, datetime(2026, 2, 28, 12, tzinfo=UTC)),
        (datetime(2026, 12, 15, 12, tzinfo=UTC), 12, datetime(2027, 12, 15, 12, tzinfo=UTC)),
        (datetime(2026, 11, 30, 12, tzinfo=UTC), 3, datetime(2027, 2, 28, 12, tzinfo=UTC)),
        (datetime(2027, 11, 30, 12, tzinfo=UTC), 3, datetime(2028, 2, 29, 12, tzinfo=UTC)),
    ],
)
def test_add_calendar_months(moment, months, expected):
    assert add_calendar_months(moment, months, LONDON) == expected


def test_validity_is_the_setting(settings):
    settings.LICENCE_VALIDITY_MONTHS = 12
    assert licence_expiry(datetime(2026, 6, 1, tzinfo=UTC), LONDON) == datetime(2027, 6, 1, tzinfo=UTC)


def test_expiry_is_shown_in_the_customers_time_zone(client, world):
    initech, charlie = world["initech"], world["charlie"]
    assign_at(datetime(2026, 7, 1, 3, 0, tzinfo=UTC), initech, charlie)  # 23:00 EDT on 30 June
    client.force_login(charlie)
    page = client.get(REQUESTED_ORDERS, {"status": "assigned"}).content.decode()
    assert '<time datetime="2027-06-30T23:00:00-04:00">30 Jun 2027, 23:00</time>' in page
    client.force_login(world["frank"])
    overview = client.get("/licences/").content.decode()
    assert "30 Jun 2027, 23:00" in overview
