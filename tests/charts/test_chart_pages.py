"""The charts on the Licences overview and the Company page: an SVG named and
described for screen readers, its figures as a table beneath, and the same number
of queries with a little data as with a lot."""

import re
from datetime import timedelta

from django.utils import timezone

from licences import seat_use
from tests.builders import Statements, assigned_order, enter_manage_mode, give_seats, make_learners


def charts_of(html: str) -> list[str]:
    return re.findall(r'<svg class="chart-svg"[^>]*role="img"[^>]*aria-labelledby="([^"]+)"', html)


def test_the_overview_shows_both_charts_with_their_tables(client, world):
    acme, alice, dana = world["acme"], world["alice"], world["dana"]
    order = assigned_order(acme, 10, alice, expires_at=timezone.now() + timedelta(days=40))
    give_seats(acme, order, make_learners(acme, 3))
    client.force_login(dana)

    html = client.get("/licences/").content.decode()

    assert charts_of(html) == [
        "chart-weekly-use-title chart-weekly-use-desc",
        "chart-expiries-title chart-expiries-desc",
    ]
    assert '<title id="chart-weekly-use-title">Seats in use per week, last 12 months</title>' in html
    assert (
        '<desc id="chart-expiries-desc">Seats expiring per month, the next 12 months: 3 seats in use and 7 free' in html
    )
    table = html.split('data-testid="chart-expiries-table"')[1].split("</table>")[0]
    assert f"#{order.pk} on " in table and ": 3 in use, 7 free" in table
    weekly = html.split('data-testid="chart-weekly-use-table"')[1].split("</table>")[0]
    assert weekly.count("<tr>") == 53  # heading and 52 weeks
    assert " style=" not in html and "<script>" not in html


def test_partner_in_manage_mode_sees_the_customers_charts(client, world):
    client.force_login(world["alice"])
    enter_manage_mode(client, world["acme"])
    assert len(charts_of(client.get("/licences/").content.decode())) == 2


def test_the_company_page_shows_the_partners_charts(client, world):
    acme, globex, alice = world["acme"], world["globex"], world["alice"]
    assigned_order(acme, 10, alice, expires_at=timezone.now() + timedelta(days=40))
    assigned_order(globex, 30, alice, expires_at=timezone.now() + timedelta(days=80))
    assigned_order(world["initech"], 99, world["charlie"])
    client.force_login(alice)

    html = client.get("/partner/companies/").content.decode()

    assert charts_of(html) == [
        "chart-customer-seats-title chart-customer-seats-desc",
        "chart-renewals-title chart-renewals-desc",
    ]
    seats = html.split('data-testid="chart-customer-seats-table"')[1].split("</table>")[0]
    assert re.findall(r'<th scope="row">([^<]+)</th>', seats) == ["Globex Retail", "Acme Manufacturing"]
    assert "Initech" not in html


def overview_statements(client):
    with Statements() as captured:
        response = client.get("/licences/")
    assert response.status_code == 200
    return captured.statements


def test_the_overview_runs_the_same_queries_with_a_year_of_record_and_many_orders(client, world):
    acme, alice = world["acme"], world["alice"]
    client.force_login(world["dana"])
    assigned_order(acme, 10, alice, expires_at=timezone.now() + timedelta(days=40))
    client.get("/licences/")
    small = overview_statements(client)

    for n in range(15):
        order = assigned_order(acme, 10, alice, expires_at=timezone.now() + timedelta(days=20 * n + 1))
    give_seats(acme, order, make_learners(acme, 5))
    today = timezone.now().date()
    seat_use.store_days(acme, [(today - timedelta(days=d), d % 40) for d in range(1, 400)])
    large = overview_statements(client)

    assert len(large) == len(small), large


def test_the_company_page_runs_the_same_queries_with_more_customers_and_orders(client, world):
    alice = world["alice"]
    client.force_login(alice)
    client.get("/partner/companies/")
    with Statements() as small:
        client.get("/partner/companies/")
    for customer in (world["acme"], world["globex"]):
        for n in range(6):
            assigned_order(customer, 10 + n, alice, expires_at=timezone.now() + timedelta(days=30 * n + 1))
    with Statements() as large:
        client.get("/partner/companies/")
    assert len(large.statements) == len(small.statements)
