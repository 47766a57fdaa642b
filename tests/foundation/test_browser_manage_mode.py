"""The guide's first steps in a real browser: Company → Actions → Manage Company →
the banner names the customer → Exit."""

import pytest
from playwright.sync_api import expect

from tests.builders import sign_in

pytestmark = pytest.mark.browser


def test_partner_manager_enters_and_leaves_manage_mode(page, alice, acme, globex, initech):
    sign_in(page, alice.email)

    page.get_by_role("link", name="Company").click()
    expect(page.get_by_role("heading", name="Company")).to_be_visible()
    expect(page.get_by_test_id("companies")).not_to_contain_text("Initech")

    row = page.get_by_role("row").filter(has_text="Acme Manufacturing")
    row.get_by_text("Actions").click()
    row.get_by_role("button", name="Manage Company").click()

    banner = page.get_by_test_id("manage-banner")
    expect(banner).to_contain_text("You are managing Acme Manufacturing")
    expect(page.get_by_role("link", name="Learners")).to_be_visible()

    banner.get_by_role("button", name="Exit").click()
    expect(page.get_by_test_id("manage-banner")).to_have_count(0)
    expect(page.get_by_role("heading", name="Company")).to_be_visible()
