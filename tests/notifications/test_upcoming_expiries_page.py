"""The partner dashboard's Upcoming expiries: which customers have licences expiring
in the next 30 days, and which notices went out; only the partner's own customers."""

from datetime import timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licences.services import request_order
from tests.builders import ASSIGNED, EXPIRES, REMINDER_DUE, assign, run_scheduler

URL = "/partner/expiring/"


def get(client, at, **params):
    with time_machine.travel(at, tick=False):
        return client.get(URL, params)


def row_of(html: str, order) -> str:
    start = html.index(f'data-order="{order.pk}"')
    return html[start : html.index("</tr>", start)]


def test_partner_sees_their_customers_expiries_and_the_notices_sent(client, world):
    acme_order = assign(world["acme"], world["alice"])
    globex_order = assign(world["globex"], world["bob"], at=ASSIGNED + timedelta(days=20))
    initech_order = assign(world["initech"], world["charlie"])
    far_order = assign(world["acme"], world["alice"], at=ASSIGNED + timedelta(days=40))
    request_order(world["acme"], 3, acting_user=world["alice"])  # requested: no expiry
    run_scheduler(REMINDER_DUE)

    client.force_login(world["alice"])
    response = get(client, REMINDER_DUE + timedelta(hours=1))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Upcoming expiries</h1>" in html
    assert f'data-order="{acme_order.pk}"' in html
    assert f'data-order="{globex_order.pk}"' in html
    assert f'data-order="{initech_order.pk}"' not in html and "Initech" not in html
    assert f'data-order="{far_order.pk}"' not in html  # beyond 30 days

    acme_row = row_of(html, acme_order)
    assert "Acme Manufacturing" in acme_row and ">5<" in acme_row
    assert "10 Jun 2026, 10:30" in acme_row  # expiry, London time
    assert 'badge-ok">Sent</span> <time datetime="2026-06-07T10:30:00+01:00"' in acme_row
    assert "to 1 manager" in acme_row
    globex_row = row_of(html, globex_order)
    assert "30 Jun 2026, 11:30" in globex_row  # Berlin time
    assert "Due <time" in globex_row and "27 Jun 2026, 11:30" in globex_row


def test_recently_expired_orders_show_the_expiry_notice(client, world):
    order = assign(world["acme"], world["alice"])
    run_scheduler(EXPIRES + timedelta(hours=2))  # beat was down: reminder skipped, expiry sent
    client.force_login(world["alice"])
    html = get(client, EXPIRES + timedelta(days=2)).content.decode()
    row = row_of(html, order)
    assert 'badge badge-expired">Expired' in row
    assert "Skipped</span>" in row and "The licences had expired before this reminder went out." in row
    assert 'badge-ok">Sent</span>' in row
    assert f'data-order="{order.pk}"' not in get(client, EXPIRES + timedelta(days=8)).content.decode()


def test_filter_by_company_only_offers_the_partners_own(client, world):
    acme_order = assign(world["acme"], world["alice"])
    globex_order = assign(world["globex"], world["alice"])
    initech_order = assign(world["initech"], world["charlie"])
    client.force_login(world["alice"])
    at = REMINDER_DUE

    html = get(client, at, customer=world["globex"].pk).content.decode()
    assert f'data-order="{globex_order.pk}"' in html and f'data-order="{acme_order.pk}"' not in html
    assert "Initech" not in html  # not even in the dropdown

    forged = get(client, at, customer=world["initech"].pk)
    assert forged.status_code == 200
    html = forged.content.decode()
    assert "Choose one of your companies." in html
    assert f'data-order="{initech_order.pk}"' not in html and "Initech" not in html


def test_only_partner_managers_may_open_it(client, world):
    assert get(client, REMINDER_DUE).status_code == 302  # to sign in
    client.force_login(world["dana"])
    assert get(client, REMINDER_DUE).status_code == 403


def test_the_page_runs_the_same_queries_for_one_row_or_many(client, world):
    assign(world["acme"], world["alice"])
    client.force_login(world["alice"])
    get(client, REMINDER_DUE)  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        get(client, REMINDER_DUE)
    for days in range(1, 11):
        assign(world["globex" if days % 2 else "acme"], world["alice"], at=ASSIGNED + timedelta(days=days))
    run_scheduler(REMINDER_DUE + timedelta(days=5))
    with CaptureQueriesContext(connection) as eleven:
        response = get(client, REMINDER_DUE + timedelta(days=5))
    assert response.content.decode().count("data-order=") == 11
    assert len(eleven) == len(one)


def test_partner_managers_have_the_nav_link(client, world):
    client.force_login(world["alice"])
    html = client.get("/partner/companies/").content.decode()
    assert f'href="{URL}"' in html and ">Upcoming expiries</a>" in html
    client.force_login(world["dana"])
    assert f'href="{URL}"' not in client.get("/licences/").content.decode()
