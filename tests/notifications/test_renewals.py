"""The partner's renewals on Upcoming expiries (issue 11, point 3): per customer with
licences expiring in the next 30 days, the learners affected, free seats in later
orders, orders waiting, each notice; Request renewal for several customers at once."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AuditEvent
from customers.models import Customer
from licences.models import LicenceOrder, OrderStatus
from licences.services import request_order
from notifications import renewals
from tests.builders import (
    REQUESTED_ORDERS,
    assigned_order,
    customers_with_expiring_orders,
    give_seats,
    make_learners,
)

URL = "/partner/expiring/"
RENEW = "/partner/expiring/renew/"


def block_of(html: str, customer) -> str:
    start = html.index(f'data-customer="{customer.pk}"')
    return html[start : html.index("</tbody>", start)]


@pytest.fixture
def acme_expiring(world):
    """Acme: 8 learners on an order expiring in three days, 30 free seats in a later
    order, and 4 licences requested and waiting (the issue's demo case)."""
    acme, alice, dana = world["acme"], world["alice"], world["dana"]
    soon = assigned_order(acme, 10, alice, expires_at=timezone.now() + timedelta(days=3))
    give_seats(acme, soon, make_learners(acme, 8))
    later = assigned_order(acme, 30, alice, expires_at=timezone.now() + timedelta(days=200))
    waiting = request_order(acme, 4, acting_user=dana)
    return soon, later, waiting


def test_each_customer_shows_learners_affected_free_later_and_waiting(client, world, acme_expiring):
    soon, later, _ = acme_expiring
    globex_order = assigned_order(world["globex"], 5, world["alice"], expires_at=timezone.now() + timedelta(days=20))
    client.force_login(world["alice"])
    html = client.get(URL).content.decode()

    acme = block_of(html, world["acme"])
    assert "Acme Manufacturing" in acme and f'data-order="{soon.pk}"' in acme
    assert f'data-order="{later.pk}"' not in acme  # beyond the 30 days
    assert "data-affected>8<" in acme
    assert "data-free-later>30<" in acme
    assert "1 order, 4 licences" in acme
    assert f'name="quantity-{world["acme"].pk}" value="8"' in acme
    globex = block_of(html, world["globex"])
    assert f'data-order="{globex_order.pk}"' in globex and "data-affected>0<" in globex
    # Soonest first.
    assert html.index(f'data-customer="{world["acme"].pk}"') < html.index(f'data-customer="{world["globex"].pk}"')


def test_the_read_serves_one_customer_with_its_figures(world, acme_expiring):
    # An order that expired long ago is history: it changes no figure.
    assigned_order(world["acme"], 50, world["alice"], expires_at=timezone.now() - timedelta(days=100))
    (row,) = renewals.customers_to_renew(world["acme"].partner, customer=world["acme"])
    assert (row.learners_affected, row.free_later, row.waiting_orders, row.waiting_licences) == (8, 30, 1, 4)
    (renewal,) = renewals.with_orders([row], world["acme"].partner)
    assert [line.order.pk for line in renewal.orders] == [acme_expiring[0].pk]
    assert renewal.suggested_quantity == 8


def test_request_renewal_for_two_customers_makes_one_order_each(client, world, acme_expiring):
    assigned_order(world["globex"], 5, world["alice"], expires_at=timezone.now() + timedelta(days=20))
    acme, globex = world["acme"], world["globex"]
    client.force_login(world["alice"])
    before = set(LicenceOrder.objects.values_list("pk", flat=True))
    response = client.post(
        RENEW,
        {"customer": [acme.pk, globex.pk], f"quantity-{acme.pk}": "8", f"quantity-{globex.pk}": "12"},
        follow=True,
    )
    assert response.status_code == 200
    new = LicenceOrder.objects.exclude(pk__in=before).order_by("customer__name")
    assert [(o.customer_id, o.quantity, o.status, o.requested_by_id) for o in new] == [
        (acme.pk, 8, OrderStatus.REQUESTED, world["alice"].pk),
        (globex.pk, 12, OrderStatus.REQUESTED, world["alice"].pk),
    ]
    assert "Renewal requested for Acme Manufacturing" in response.content.decode()
    # Audited as the partner's own act, not in manage mode.
    audit = AuditEvent.objects.filter(
        action=AuditEvent.Action.ORDER_REQUESTED, details__order_id__in=[o.pk for o in new]
    )
    assert audit.count() == 2
    assert set(audit.values_list("actor_id", "in_manage_mode")) == {(world["alice"].pk, False)}
    # They wait in Requested Orders for Assign, as any order.
    orders_page = client.get(REQUESTED_ORDERS).content.decode()
    for order in new:
        assert f"#{order.pk}" in orders_page


@pytest.mark.parametrize(
    "quantities, message",
    [
        ({"acme": "8", "globex": "0"}, "Globex Retail: Enter a number of licences from 1"),
        ({"acme": "8", "globex": "lots"}, "Globex Retail: Enter a whole number of licences."),
        ({"acme": "8", "globex": str(settings.LICENCE_ORDER_MAX_QUANTITY + 1)}, "Enter a number of licences from 1"),
        ({"acme": "8", "globex": "99999999999999999999"}, "Enter a whole number of licences."),
        ({"acme": "8", "initech": "3"}, "Choose only your own companies."),
        ({}, "Tick at least one company to renew."),
    ],
)
def test_bad_input_changes_nothing_and_says_why(client, world, quantities, message):
    client.force_login(world["alice"])
    data = {"customer": [world[name].pk for name in quantities]}
    data |= {f"quantity-{world[name].pk}": value for name, value in quantities.items()}
    before = LicenceOrder.objects.count()
    response = client.post(RENEW, data, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html and "Nothing was requested." in html
    assert LicenceOrder.objects.count() == before


def test_forged_and_too_many_ids_are_refused(client, world):
    client.force_login(world["alice"])
    for data in ({"customer": ["1 OR 1=1"]}, {"customer": [str(n) for n in range(1, 150)]}):
        before = LicenceOrder.objects.count()
        response = client.post(RENEW, data, follow=True)
        assert response.status_code == 200 and "Nothing was requested." in response.content.decode()
        assert LicenceOrder.objects.count() == before


def test_one_transaction_all_or_nothing_in_the_service(world):
    """A bad quantity for the second customer, or a customer deactivated between the
    form and the service: no order at all, not even the first one's."""
    acme, globex, partner = world["acme"], world["globex"], world["acme"].partner
    with pytest.raises(ValidationError):
        renewals.request_renewals(partner, {acme.pk: 3, globex.pk: 0}, acting_user=world["alice"])
    globex.is_active = False
    globex.save(update_fields=["is_active"])
    with pytest.raises(Customer.DoesNotExist):
        renewals.request_renewals(partner, {acme.pk: 3, globex.pk: 3}, acting_user=world["alice"])
    assert not LicenceOrder.objects.exists()


def test_the_same_form_sent_twice_requests_once(client, world):
    client.force_login(world["alice"])
    html = client.get(URL).content.decode()
    once = html.split('name="once" value="', 1)[1].split('"', 1)[0]
    data = {"once": once, "customer": [world["acme"].pk], f"quantity-{world['acme'].pk}": "3"}
    client.post(RENEW, data)
    response = client.post(RENEW, data, follow=True)
    assert "already requested (the form was sent twice)" in response.content.decode()
    assert LicenceOrder.objects.filter(customer=world["acme"]).count() == 1


def test_only_partner_managers_may_request_renewals(client, world):
    assert client.post(RENEW, {"customer": [world["acme"].pk]}).status_code == 302  # to sign in
    client.force_login(world["dana"])
    assert client.post(RENEW, {"customer": [world["acme"].pk], f"quantity-{world['acme'].pk}": "3"}).status_code == 403
    client.force_login(world["alice"])
    assert client.get(RENEW).status_code == 405
    assert not LicenceOrder.objects.exists()


def test_the_page_runs_the_same_queries_at_20_and_2000_customers(client, world):
    partner, alice = world["acme"].partner, world["alice"]
    soon = timezone.now() + timedelta(days=10)
    client.force_login(alice)
    customers_with_expiring_orders(partner, 20, alice, soon, prefix="small")
    client.get(URL)  # warm the session
    with CaptureQueriesContext(connection) as small:
        response = client.get(URL)
    assert response.content.decode().count("data-customer=") == 20
    customers_with_expiring_orders(partner, 1980, alice, soon, prefix="large")
    with CaptureQueriesContext(connection) as large:
        response = client.get(URL)
    assert response.content.decode().count("data-customer=") == settings.PAGE_SIZE
    assert "data-affected>3<" in response.content.decode()
    assert len(large) == len(small)


def test_a_refused_request_shows_the_ticks_and_quantities_again(client, world, acme_expiring):
    """Nothing typed is lost: the page after the message keeps what was ticked and typed
    (once: the next visit shows the page as it is)."""
    assigned_order(world["globex"], 5, world["alice"], expires_at=timezone.now() + timedelta(days=20))
    client.force_login(world["alice"])
    acme, globex = world["acme"], world["globex"]
    data = {"customer": [acme.pk, globex.pk], f"quantity-{acme.pk}": "5", f"quantity-{globex.pk}": "0"}
    html = client.post(RENEW, data, follow=True).content.decode()
    assert "Nothing was requested." in html
    ticked = re.findall(r'<input type="checkbox" name="customer" value="(\d+)"[^>]* checked>', html)
    assert sorted(map(int, ticked)) == sorted([acme.pk, globex.pk])
    assert f'name="quantity-{acme.pk}" value="5"' in html and f'name="quantity-{globex.pk}" value="0"' in html
    again = client.get("/partner/expiring/").content.decode()
    assert not re.findall(r'name="customer" value="\d+"[^>]* checked', again)
