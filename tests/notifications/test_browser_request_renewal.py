"""In Chromium: a partner manager ticks two customers on Upcoming expiries, keeps one
prefilled quantity and changes the other, requests renewal, and finds both orders in
Requested Orders, ready to Assign; never entering manage mode."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from licences.models import LicenceOrder, OrderStatus
from tests.builders import assigned_order, give_seats, make_learners, sign_in


def test_a_partner_manager_renews_two_customers_in_one_go(page, world):
    acme, globex = world["acme"], world["globex"]
    soon = assigned_order(acme, 10, world["alice"], expires_at=timezone.now() + timedelta(days=3))
    give_seats(acme, soon, make_learners(acme, 8))
    assigned_order(globex, 5, world["alice"], expires_at=timezone.now() + timedelta(days=12))

    sign_in(page, world["alice"].email)
    page.get_by_role("link", name="Upcoming expiries").click()
    expect(page.get_by_role("heading", name="Upcoming expiries")).to_be_visible()
    expect(page.get_by_label("Licences for Acme Manufacturing")).to_have_value("8")
    page.get_by_label("Renew Acme Manufacturing").check()
    page.get_by_label("Renew Globex Retail").check()
    # Globex has no learners on the expiring order: nothing prefilled, a bad number first.
    page.get_by_label("Licences for Globex Retail").fill("0")
    page.get_by_role("button", name="Request renewal").click()
    expect(page.get_by_text("Globex Retail: Enter a number of licences from 1")).to_be_visible()
    assert not LicenceOrder.objects.filter(status=OrderStatus.REQUESTED).exists()

    page.get_by_label("Renew Acme Manufacturing").check()
    page.get_by_label("Renew Globex Retail").check()
    page.get_by_label("Licences for Globex Retail").fill("6")
    page.get_by_role("button", name="Request renewal").click()
    expect(page.get_by_text("Renewal requested for Acme Manufacturing")).to_be_visible()
    expect(page.get_by_test_id("upcoming-expiries").locator(f'[data-customer="{acme.pk}"]')).to_contain_text(
        "1 order, 8 licences"
    )

    page.get_by_role("link", name="Requested Orders").first.click()
    for name, quantity in (("Acme Manufacturing", "8"), ("Globex Retail", "6")):
        row = page.get_by_role("row").filter(has_text=name).filter(has_text="Requested")
        expect(row).to_contain_text(quantity)
    orders = LicenceOrder.objects.filter(status=OrderStatus.REQUESTED).order_by("customer__name")
    assert [(o.customer_id, o.quantity) for o in orders] == [(acme.pk, 8), (globex.pk, 6)]
    # Assign, as today.
    row = page.get_by_role("row").filter(has_text="Acme Manufacturing").filter(has_text="Requested")
    row.get_by_label("Order actions").click()
    row.get_by_role("menuitem", name="Assign").click()
    expect(page.get_by_role("row").filter(has_text="Acme Manufacturing").filter(has_text="Requested")).to_have_count(0)
    assert LicenceOrder.objects.get(pk=orders[0].pk).status == OrderStatus.ASSIGNED
