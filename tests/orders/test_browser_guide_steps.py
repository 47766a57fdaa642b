"""The guide's Steps 1 and 2 in a real browser, with its labels:

Step 1: Company → Actions → Manage Company → Licences → Orders → Request Licences →
number of licences → Save.
Step 2: Exit → Licences → Orders → Requested Orders → Add Filter (by customer) →
three dots → Assign; then the customer's manager finds the email in the outbox.

The live server runs in this process with the locmem email backend and eager Celery,
so the email lands in django.core.mail.outbox."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from licences.models import LicenceOrder, OrderStatus
from tests.builders import order_for, sign_in

pytestmark = pytest.mark.browser
SCREENSHOTS = "/tmp/requested_orders{}.png"


def test_steps_1_and_2_of_the_guide(page, world):
    # Other orders, so that Add Filter has something to filter out.
    order_for(world["globex"], world["erin"], 40)
    order_for(world["initech"], world["frank"], 15)  # another partner's: never shown

    sign_in(page, world["alice"].email)

    # Step 1. Enter managing mode and order licences.
    page.get_by_role("link", name="Company").click()
    row = page.get_by_role("row").filter(has_text="Acme Manufacturing")
    row.get_by_text("Actions").click()
    row.get_by_role("button", name="Manage Company").click()
    expect(page.get_by_test_id("manage-banner")).to_contain_text("You are managing Acme Manufacturing")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Licences").click()
    page.get_by_role("navigation", name="Licences").get_by_role("link", name="Orders").click()
    page.get_by_role("link", name="Request Licences").click()
    page.get_by_label("Number of licences").fill("25")
    page.screenshot(path=SCREENSHOTS.format("_request_licences"))
    page.get_by_role("button", name="Save").click()

    order = LicenceOrder.objects.get(customer=world["acme"])
    expect(page.locator(".messages")).to_contain_text(f"Order #{order.pk} for 25 licences requested.")
    expect(page.get_by_test_id("orders")).to_contain_text("Requested")

    # Step 2. Exit manager mode and assign the licences.
    page.get_by_test_id("manage-banner").get_by_role("button", name="Exit").click()
    expect(page.get_by_test_id("manage-banner")).to_have_count(0)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Licences").click()
    page.get_by_role("navigation", name="Licences").get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", name="Requested Orders")).to_be_visible()
    orders = page.get_by_test_id("requested-orders")
    expect(orders).to_contain_text("Globex Retail")
    expect(orders).not_to_contain_text("Initech")

    page.get_by_role("link", name="Add Filter").click()
    # The customer picker: type part of the name, choose the suggestion by keyboard.
    picker = page.get_by_role("combobox", name="Customer")
    page.get_by_label("Customer").press_sequentially("acme")
    suggestions = page.get_by_role("listbox", name="Suggestions")
    expect(suggestions.get_by_role("option", name="Acme Manufacturing")).to_be_visible()
    expect(suggestions.get_by_role("option")).to_have_count(1)  # Globex does not match, Initech is not ours
    picker.press("ArrowDown")
    picker.press("Enter")
    expect(picker).to_have_value("Acme Manufacturing")
    page.screenshot(path=SCREENSHOTS.format("_add_filter"), full_page=True)
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(rf"\?customer={world['acme'].pk}$"))  # empty fields left out
    expect(page.get_by_test_id("active-filters")).to_contain_text("Customer: Acme Manufacturing")
    expect(orders).not_to_contain_text("Globex Retail")

    row = orders.get_by_role("row").filter(has_text=f"#{order.pk}")
    expect(row).to_contain_text("25")
    page.screenshot(path=SCREENSHOTS.format(""), full_page=True)
    row.get_by_label("Order actions").click()
    page.screenshot(path=SCREENSHOTS.format("_menu"), full_page=True)
    row.get_by_role("menuitem", name="Assign").click()

    expect(page.locator(".messages")).to_contain_text(f"Order #{order.pk} assigned: 25 licences for Acme")
    expect(page).to_have_url(re.compile(rf"\?customer={world['acme'].pk}$"))  # back to the filtered list
    order.refresh_from_db()
    assert order.status == OrderStatus.ASSIGNED
    assert order.assigned_by == world["alice"]

    # The customer's manager has the ready-for-allocation email.
    [email] = [m for m in mail.outbox if "ready for allocation" in m.subject]
    assert email.to == ["dana@acme.test"]
    assert email.subject == "25 new licences ready for allocation at Acme Manufacturing"


def test_add_filter_works_without_javascript(browser, live_server, tenant_transactional_db, world):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    try:
        order = order_for(world["acme"], world["dana"], 9)
        order_for(world["globex"], world["erin"], 40)
        sign_in(page, world["bob"].email)
        page.goto("/partner/licences/orders/")
        page.get_by_role("link", name="Add Filter").click()  # reloads with the form open
        # Without JavaScript the picker is a text search by name.
        page.get_by_label("Customer").fill("acme")
        page.get_by_role("button", name="Apply filters").click()
        orders = page.get_by_test_id("requested-orders")
        expect(orders).not_to_contain_text("Globex Retail")
        row = orders.get_by_role("row").filter(has_text=f"#{order.pk}")
        row.get_by_label("Order actions").click()  # <details>: opens without script
        row.get_by_role("menuitem", name="Cancel").click()
        expect(page.locator(".messages")).to_contain_text(f"Order #{order.pk} for Acme Manufacturing cancelled.")
        order.refresh_from_db()
        assert order.status == OrderStatus.CANCELLED
    finally:
        context.close()
