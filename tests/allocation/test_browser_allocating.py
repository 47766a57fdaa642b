"""The guide's "Allocating Licenses" part in a real browser, with its labels: a
partner manager enters manage mode (Company → Actions → Manage Company), goes to
Licences → Expired Licences, renews One by One and with Select All (Select users
Manually → Allocate Licences), then by CSV (Select Users by CSV → Import Allocation
→ upload → the Email column from the dropdown → review → Renew Licences). A customer
manager walks the CSV path too. Screenshots go to /tmp/allocating-*.png."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from learners import reads
from tests.builders import assigned_order, expired_learners_of, sign_in

pytestmark = pytest.mark.browser

SHOTS = "/tmp/allocating-{}.png"


def shot(page, name):
    page.screenshot(path=SHOTS.format(name), full_page=True)


@pytest.fixture
def acme_to_renew(alice, acme):
    """Acme: 30 expired sales learners and 5 in ops, and a new order of 20 licences."""
    expired_learners_of(acme, 30, alice, prefix="sales")
    expired_learners_of(acme, 5, alice, prefix="ops")
    return assigned_order(acme, 20, alice)


def expired_count(acme):
    with acme:
        return reads.expired_learners().count()


def test_partner_manager_allocates_manually_and_by_csv(page, alice, acme, globex, acme_to_renew, tmp_path):
    sign_in(page, alice.email)
    page.get_by_role("link", name="Company").click()
    row = page.get_by_role("row").filter(has_text="Acme Manufacturing")
    row.get_by_text("Actions").click()
    row.get_by_role("button", name="Manage Company").click()
    expect(page.get_by_test_id("manage-banner")).to_contain_text("Acme Manufacturing")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Licences").click()
    page.get_by_role("link", name="Expired Licences").click()
    expect(page.get_by_test_id("free-seats")).to_contain_text("20 free licences")
    page.get_by_role("link", name="Select users Manually").click()
    table = page.get_by_test_id("expired-learners")
    expect(table.get_by_role("row")).to_have_count(26)  # header + a page of 25
    shot(page, "1-expired-licences")

    # One by One.
    page.get_by_label("Select ops00000@acme.test").check()
    page.get_by_label("Select ops00001@acme.test").check()
    page.get_by_role("button", name="Allocate Licences").click()
    expect(page.get_by_role("list").filter(has_text="Renewed")).to_contain_text("Renewed 2 learners.")
    assert expired_count(acme) == 33
    shot(page, "2-one-by-one")

    # Select All: every learner matching the search, across both pages; seats run out.
    page.get_by_label("Search expired learners").fill("sales")
    page.get_by_role("button", name="Search").click()
    page.get_by_label("Select All").check()
    expect(page.get_by_text("All learners matching “sales” are selected, on every page.")).to_be_visible()
    expect(page.get_by_label("Select sales00000@acme.test")).to_be_checked()
    shot(page, "3-select-all")
    page.get_by_role("button", name="Allocate Licences").click()
    expect(page.get_by_text("Renewed 18 learners. 12 not renewed: not enough free licences.")).to_be_visible()
    assert expired_count(acme) == 15
    shot(page, "4-select-all-done")

    # Select Users by CSV → Import Allocation, after more licences arrive.
    assigned_order(acme, 10, alice)
    page.get_by_role("link", name="Select Users by CSV").click()
    expect(page.get_by_test_id("csv-mode")).to_be_visible()
    page.locator(".page-head").get_by_role("link", name="Import Allocation").click()
    users = tmp_path / "users.csv"
    users.write_text(
        "Name;Email;Team\n"
        + "".join(f"Sales {n};sales{n:05d}@acme.test;Sales\n" for n in range(18, 30))
        + "Stranger;stranger@acme.test;Ops\nOps again;OPS00000@acme.test;Ops\n",
        encoding="cp1252",
    )
    page.get_by_label("Upload your User CSV File").set_input_files(str(users))
    page.get_by_role("button", name="Upload", exact=True).click()
    dropdown = page.get_by_label("From the dropdown select the spreadsheet column containing 'Email'")
    expect(dropdown.locator("option:checked")).to_have_text("Email")
    expect(page.get_by_test_id("to-renew")).to_have_text("10")
    expect(page.get_by_test_id("not-renewed")).to_have_text("4")
    reasons = page.get_by_test_id("reasons")
    expect(reasons).to_contain_text("Unknown email")
    expect(reasons).to_contain_text("Already holds a valid licence")
    expect(reasons).to_contain_text("Not enough free licences")
    shot(page, "5-import-review")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these rows (CSV)").click()
    assert "stranger@acme.test" in Path(download.value.path()).read_text(encoding="utf-8")

    page.get_by_role("button", name="Renew Licences").click()
    expect(page.get_by_text("Renewed 10 learners. Not renewed: 4")).to_be_visible()
    assert expired_count(acme) == 5
    shot(page, "6-import-done")


def test_customer_manager_renews_by_csv(page, alice, dana, acme, acme_to_renew, tmp_path):
    sign_in(page, dana.email)
    page.get_by_role("link", name="Expired Licences").click()
    page.get_by_role("link", name="Select Users by CSV").click()
    page.get_by_test_id("csv-mode").get_by_role("link", name="Import Allocation").click()
    users = tmp_path / "users.csv"
    users.write_bytes(
        ("Work email\tName\r\n" + "".join(f"ops{n:05d}@acme.test\tOps {n}\r\n" for n in range(5))).encode("utf-16")
    )
    page.get_by_label("Upload your User CSV File").set_input_files(str(users))
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_test_id("to-renew")).to_have_text("5")
    page.get_by_role("button", name="Renew Licences").click()
    expect(page.get_by_text("Renewed 5 learners.")).to_be_visible()
    assert expired_count(acme) == 30


def test_an_expired_customers_manager_lands_on_the_renewal_page(page, alice, dana, acme):
    expired_learners_of(acme, 3, alice)
    sign_in(page, dana.email)
    expect(page.get_by_role("heading", name="Your licences have expired")).to_be_visible()
    page.get_by_role("link", name="Learners").click()
    expect(page.get_by_role("heading", name="Your licences have expired")).to_be_visible()
    shot(page, "7-renewal-page")


def test_a_big_file_shows_its_progress_then_the_outcome(
    page, alice, dana, acme, acme_to_renew, tmp_path, monkeypatch, settings
):
    """The worker is held back until the page shows the bar and polls; then it runs,
    and the page follows it to the outcome by itself."""
    from learners.models import CsvUpload
    from learners.tasks import run_csv_import

    settings.CSV_BACKGROUND_MIN_ROWS = 3
    monkeypatch.setattr(run_csv_import, "delay_on_commit", lambda *args: None)
    sign_in(page, dana.email)
    page.goto("/licences/expired/import-allocation/")
    users = tmp_path / "users.csv"
    users.write_text("Email\n" + "".join(f"sales{n:05d}@acme.test\n" for n in range(10)))
    page.get_by_label("Upload your User CSV File").set_input_files(str(users))
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_text("it is renewed in the background")).to_be_visible()
    page.get_by_role("button", name="Renew Licences").click()
    status = page.get_by_test_id("import-status")
    expect(status).to_contain_text("Waiting for a worker to start the import")
    expect(status.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
    shot(page, "8-background-import-waiting")

    with acme:
        upload_id = CsvUpload.objects.get().pk
    assert run_csv_import(upload_id, "acme", dana.pk) == "done"

    expect(status).to_contain_text("Renewed 10 learners.", timeout=10_000)
    expect(status.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(status.get_by_role("link", name="Back to Expired Licences")).to_be_visible()
    shot(page, "9-background-import-done")
    assert expired_count(acme) == 25
