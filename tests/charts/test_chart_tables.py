"""The four charts' tables as the pages show them, read cell by cell, against figures
worked out by hand: the customer's seats in use per week (a week with the clock
change included) and expiry timeline, the partner's seats per customer (the top
customers and the rest) and renewals due per month; and the same tables for a
customer, and a partner, with nothing to show."""

import html
import re
from datetime import UTC, date, datetime, timedelta

import time_machine

from learners import seat_history
from licences import charts, seat_use
from tests.builders import make_customer
from tests.charts.helpers import NOW, order_of

MONTHS_2026 = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def chart_table(page: str, chart_id: str) -> tuple[list[str], list[tuple[str, ...]]]:
    """The headings and the rows (each a tuple of its cells' text) of a chart's table."""
    table = page.split(f'data-testid="{chart_id}-table"', 1)[1].split("</table>", 1)[0]
    head, body = table.split("<tbody>", 1)
    cells = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
    columns = [html.unescape(c) for c in cells.findall(head.split("<thead>", 1)[1])]
    rows = [tuple(html.unescape(c) for c in cells.findall(row)) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    return columns, rows


def week_label(monday: date) -> str:
    return f"{monday.day} {MONTHS_2026[monday.month - 1]} {monday.year}"


def weeks_from(first: date, count: int = 52) -> list[str]:
    return [week_label(first + timedelta(weeks=n)) for n in range(count)]


def months_of_2026() -> list[str]:
    return [f"{month} 2026" for month in MONTHS_2026]


def page_at(client, user, url, now) -> str:
    client.force_login(user)
    with time_machine.travel(now, tick=False):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def overview_at(client, manager, now) -> str:
    return page_at(client, manager, "/licences/", now)


def companies_at(client, partner_manager, now) -> str:
    return page_at(client, partner_manager, "/partner/companies/", now)


# --- The customer's Licences overview --------------------------------------------------


def test_the_weekly_table_with_the_week_of_the_clock_change(client, world, acme_history):
    """acme_history's seats (tests/charts/conftest.py): C from 10 to 26 March, A1 and
    A2 held at 00:00 BST on 30 March (the end of the 167-hour week of 23 March) and
    renewed half an hour later, B from then on, D given and taken back within a day.
    This week's figure is the live one: the seats of the valid orders, 1 + 6."""
    acme, alice = world["acme"], world["alice"]
    order_of(acme, alice, 10, expires_at=datetime(2027, 3, 1, tzinfo=UTC), allocated=6)
    seat_history.record_past_days(acme, now=NOW)

    columns, rows = chart_table(overview_at(client, world["dana"], NOW), "chart-weekly-use")

    assert columns == ["Week of", "Seats in use"]
    first = date(2025, 4, 14)  # 51 weeks before Monday 6 April 2026
    assert [label for label, _ in rows] == weeks_from(first)
    assert rows[:46] == [(label, "0") for label in weeks_from(first, 46)]
    assert rows[46:] == [
        ("2 Mar 2026", "0"),
        ("9 Mar 2026", "1"),  # C
        ("16 Mar 2026", "1"),  # C; D came and went on the Tuesday
        ("23 Mar 2026", "2"),  # A1 and A2 at 00:00 BST (at 00:00 UTC it would be B alone)
        ("30 Mar 2026", "1"),  # B
        ("6 Apr 2026", "7"),  # this week: the live figure
    ]


def test_the_weekly_table_shows_a_dash_for_a_week_without_a_record(client, world):
    seat_use.store_days(world["acme"], [(date(2026, 3, 24), 3), (date(2026, 3, 27), 1234), (date(2026, 4, 1), 4)])

    _, rows = chart_table(overview_at(client, world["dana"], NOW), "chart-weekly-use")

    figures = dict(rows)
    assert figures["23 Mar 2026"] == "1,234"  # the week's last recorded day, Friday the 27th
    assert figures["30 Mar 2026"] == "4"
    assert figures["6 Apr 2026"] == "0"  # this week: no valid orders
    assert [figure for _, figure in rows[:-3]] == ["—"] * 49


def test_the_expiry_timeline_table_by_order_on_the_customers_clock(client, world):
    acme, alice = world["acme"], world["alice"]
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    january = order_of(acme, alice, 10, expires_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC), allocated=4)
    # 23:30 UTC on 31 March is 00:30 BST on 1 April: April's. 09:00 UTC on 20 April is 10:00 BST.
    april = order_of(acme, alice, 5, expires_at=datetime(2026, 3, 31, 23, 30, tzinfo=UTC), allocated=5)
    april_too = order_of(acme, alice, 1500, expires_at=datetime(2026, 4, 20, 9, 0, tzinfo=UTC), allocated=1)
    order_of(acme, alice, 9, expires_at=datetime(2027, 1, 1, 10, 0, tzinfo=UTC))  # the 13th month
    order_of(acme, alice, 9, expires_at=now - timedelta(hours=1), allocated=3)  # expired
    order_of(acme, alice, 9, expires_at=None, status="requested")

    columns, rows = chart_table(overview_at(client, world["dana"], now), "chart-expiries")

    assert columns == ["Month", "Orders expiring", "Seats in use", "Free seats"]
    nothing = ("—", "0", "0")
    assert rows == [
        ("Jan 2026", f"#{january.pk} on 31 Jan 2026, 23:30: 4 in use, 6 free", "4", "6"),
        ("Feb 2026", *nothing),
        ("Mar 2026", *nothing),
        (
            "Apr 2026",
            f"#{april.pk} on 1 Apr 2026, 00:30: 5 in use, 0 free; #{april_too.pk} on 20 Apr 2026, 10:00: 1 in use, "
            "1,499 free",
            "6",
            "1,499",
        ),
        *((month, *nothing) for month in months_of_2026()[4:]),
    ]


def test_an_empty_customers_tables(client, world):
    """Globex (Berlin) has no orders: no record yet, then a year of zeros recorded."""
    globex, erin = world["globex"], world["erin"]
    first = date(2025, 4, 14)

    page = overview_at(client, erin, NOW)
    _, weekly = chart_table(page, "chart-weekly-use")
    assert weekly == [(label, "—") for label in weeks_from(first, 51)] + [("6 Apr 2026", "0")]
    columns, expiries = chart_table(page, "chart-expiries")
    assert expiries == [
        (f"{month} {year}", "—", "0", "0")
        for month, year in zip(MONTHS_2026[3:] + MONTHS_2026[:3], [2026] * 9 + [2027] * 3, strict=True)
    ]

    seat_history.record_past_days(globex, now=NOW)
    _, weekly = chart_table(overview_at(client, erin, NOW), "chart-weekly-use")
    assert weekly == [(label, "0") for label in weeks_from(first)]


# --- The partner dashboard ---------------------------------------------------------------

PARTNER_NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def test_the_seats_per_customer_table_top_customers_and_the_rest(client, world, monkeypatch):
    acme, globex, initech, alice, charlie = (world[k] for k in ("acme", "globex", "initech", "alice", "charlie"))
    hooli = make_customer("Hooli Logistics", alice.partner, "hooli")
    soon = PARTNER_NOW + timedelta(days=30)
    order_of(acme, alice, 10, expires_at=soon, allocated=4)
    order_of(globex, alice, 2000, expires_at=soon, allocated=5)
    order_of(globex, alice, 5, expires_at=PARTNER_NOW - timedelta(days=1), allocated=5)  # expired
    order_of(hooli, alice, 6, expires_at=soon, allocated=1)
    order_of(hooli, alice, 2, expires_at=soon + timedelta(days=60), allocated=2)
    order_of(initech, charlie, 50, expires_at=soon, allocated=50)  # another partner's

    columns, rows = chart_table(companies_at(client, alice, PARTNER_NOW), "chart-customer-seats")

    assert columns == ["Customer Company", "Seats in use", "Free seats"]
    # By valid licences, most first: Globex 2,000, Acme 10, Hooli 6 + 2.
    assert rows == [("Globex Retail", "5", "1,995"), ("Acme Manufacturing", "4", "6"), ("Hooli Logistics", "3", "5")]

    monkeypatch.setattr(charts, "TOP_CUSTOMERS", 1)
    _, rows = chart_table(companies_at(client, alice, PARTNER_NOW), "chart-customer-seats")
    assert rows == [("Globex Retail", "5", "1,995"), ("All other 2 customers", "7", "11")]  # 4 + 3, 6 + 5


def test_the_renewals_table_each_order_in_its_customers_month(client, world):
    acme, globex, initech, alice, charlie = (world[k] for k in ("acme", "globex", "initech", "alice", "charlie"))
    order_of(acme, alice, 10, expires_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC), allocated=4)  # 23:30 in London
    # 22:30 UTC on 31 March: 00:30 CEST on 1 April in Berlin (23:30 BST in London): April's.
    order_of(globex, alice, 20, expires_at=datetime(2026, 3, 31, 22, 30, tzinfo=UTC), allocated=5)
    order_of(acme, alice, 5, expires_at=datetime(2026, 4, 2, 9, 0, tzinfo=UTC), allocated=5)
    order_of(acme, alice, 3000, expires_at=datetime(2026, 7, 1, 9, 0, tzinfo=UTC), allocated=1000)
    order_of(acme, alice, 2000, expires_at=datetime(2026, 7, 2, 9, 0, tzinfo=UTC), allocated=500)
    order_of(initech, charlie, 50, expires_at=datetime(2026, 4, 2, 9, 0, tzinfo=UTC))  # another partner's
    order_of(acme, alice, 7, expires_at=datetime(2027, 1, 2, 9, 0, tzinfo=UTC))  # the 13th month
    order_of(acme, alice, 7, expires_at=PARTNER_NOW - timedelta(hours=1), allocated=2)  # expired

    columns, rows = chart_table(companies_at(client, alice, PARTNER_NOW), "chart-renewals")

    assert columns == ["Month", "Orders", "Customers", "Seats in use", "Free seats"]
    due = {
        "Jan 2026": ("1", "1", "4", "6"),
        "Apr 2026": ("2", "2", "10", "15"),  # Globex's 5 + 15 and Acme's 5 + 0
        "Jul 2026": ("2", "1", "1,500", "3,500"),
    }
    assert rows == [(month, *due.get(month, ("0", "0", "0", "0"))) for month in months_of_2026()]


def test_a_partner_without_valid_licences(client, world):
    """Bluefin's one customer, Initech, has none: no row per customer, twelve empty months."""
    page = companies_at(client, world["charlie"], PARTNER_NOW)

    _, seats = chart_table(page, "chart-customer-seats")
    assert seats == [("No figures yet.",)]
    _, renewals = chart_table(page, "chart-renewals")
    assert renewals == [(month, "0", "0", "0", "0") for month in months_of_2026()]
    assert "None of your customers has valid licences." in page
    assert "No customer&#x27;s licences expire in the next 12 months." in page
