"""Continuity in a real browser, with the labels: a partner manager in manage mode
reads the overview's "lose access" line, follows Renew Early to the Expiring Soon tab,
renews One by One and with Select All (Select users Manually → Renew Early); a
customer manager renews early by CSV (Select Users by CSV → Import Allocation → the
Email column → review → Renew Early) and turns carry-over on. Screenshots go to
/tmp/expiring-*.png."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from learners import reads
from tests.builders import assigned_order, expiring_learners_of, sign_in

pytestmark = pytest.mark.browser


def shot(page, name):
    page.screenshot(path=f"/tmp/expiring-{name}.png", full_page=True)


@pytest.fixture
def acme_expiring(alice, acme):
    """Acme: 30 sales and 5 ops learners expiring in 3 days, 20 free licences in a later order."""
    expiring_learners_of(acme, 30, alice, prefix="sales")
    expiring_learners_of(acme, 5, alice, prefix="ops", within=timedelta(days=3, hours=1))
    return assigned_order(acme, 20, alice, expires_at=timezone.now() + timedelta(days=300))


def expiring_count(acme):
    with acme:
        return reads.expiring_learners("", 30).count()


def test_partner_manager_renews_early_from_the_overview(page, alice, acme, acme_expiring):
    sign_in(page, alice.email)
    page.get_by_role("link", name="Company").click()
    row = page.get_by_role("row").filter(has_text="Acme Manufacturing")
    row.get_by_text("Actions").click()
    row.get_by_role("button", name="Manage Company").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Licences").click()
    losing = page.get_by_test_id("losing-access")
    expect(losing).to_contain_text("30 learners lose access on")
    expect(losing).to_contain_text("20 free licences in later orders")
    shot(page, "1-overview")
    losing.get_by_role("link", name="Renew Early").click()

    expect(page.get_by_role("navigation", name="Licences").get_by_role("link", name="Expiring Soon")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_test_id("later-free-seats")).to_contain_text("20 free licences in later orders")
    table = page.get_by_test_id("expiring-learners")
    expect(table.get_by_role("row")).to_have_count(26)  # header + a page of 25
    page.get_by_label("Select ops00000@acme.test").check()
    page.get_by_role("button", name="Renew Early").click()
    expect(page.get_by_text("Renewed 1 learner early: they keep access on a later order.")).to_be_visible()
    assert expiring_count(acme) == 34
    shot(page, "2-one-by-one")

    page.get_by_label("Search expiring learners").fill("sales")
    page.get_by_role("button", name="Search").click()
    page.get_by_label("Select All").check()
    expect(
        page.get_by_text("All learners expiring within 7 days matching “sales” are selected, on every page.")
    ).to_be_visible()
    page.get_by_role("button", name="Renew Early").click()
    # 19 seats of the later order, and the seat ops00000 left on ops' order, which outlasts sales' by an hour.
    expect(page.get_by_text("Renewed 20 learners early")).to_be_visible()
    expect(page.get_by_text("10 not renewed: not enough free licences in later orders.")).to_be_visible()
    assert expiring_count(acme) == 15
    shot(page, "3-select-all")


def test_customer_manager_renews_early_by_csv_and_turns_carry_over_on(page, alice, dana, acme, acme_expiring, tmp_path):
    sign_in(page, dana.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Licences").click()
    page.get_by_role("link", name="Expiring Soon").click()
    page.get_by_role("button", name="Turn carry-over on").click()
    expect(page.get_by_text("Carry-over is on")).to_be_visible()
    expect(page.get_by_test_id("carry-over")).to_contain_text("On")

    page.get_by_role("link", name="Select Users by CSV").click()
    page.get_by_test_id("csv-mode").get_by_role("link", name="Import Allocation").click()
    users = tmp_path / "users.csv"
    users.write_text(
        "Name,Email\n" + "".join(f"Ops {n},ops{n:05d}@acme.test\n" for n in range(5)) + "Who,stranger@acme.test\n"
    )
    page.get_by_label("Upload your User CSV File").set_input_files(str(users))
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_test_id("to-renew")).to_have_text("5")
    expect(page.get_by_test_id("reasons")).to_contain_text("Unknown email")
    shot(page, "4-csv-review")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these rows (CSV)").click()
    assert "stranger@acme.test" in Path(download.value.path()).read_text(encoding="utf-8")
    page.get_by_role("button", name="Renew Early").click()
    expect(page.get_by_text("Renewed 5 learners early. Not renewed: 1")).to_be_visible()
    assert expiring_count(acme) == 30
    shot(page, "5-csv-done")
