"""Activity and an export in a real browser: a partner manager opens Activity,
filters by kind of event, goes to the next page; a customer manager downloads the
Learners section's Export CSV."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import AuditEvent
from tests.builders import make_learners, sign_in

pytestmark = pytest.mark.browser
Action = AuditEvent.Action


def test_partner_filters_activity_and_goes_to_the_next_page(page, alice, acme, dana, globex, erin):
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    AuditEvent.objects.bulk_create(
        [
            *(
                AuditEvent(
                    action=Action.ORDER_REQUESTED,
                    actor=dana,
                    customer=acme,
                    partner=acme.partner,
                    at=start + timedelta(minutes=n),
                    details={"order_id": 100 + n, "quantity": 5},
                )
                for n in range(30)
            ),
            *(
                AuditEvent(
                    action=Action.ORDER_CANCELLED,
                    actor=erin,
                    customer=globex,
                    partner=globex.partner,
                    at=start + timedelta(minutes=30 + n),
                    details={"order_id": 200 + n, "quantity": 7},
                )
                for n in range(5)
            ),
        ]
    )
    sign_in(page, alice.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()
    log = page.get_by_test_id("activity")
    expect(log).to_contain_text("Erin (Globex Retail) cancelled order #204 for 7 licences")

    page.get_by_label("Event").select_option(label="Order requested")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"\?kind=order\.requested$"))
    expect(log).not_to_contain_text("cancelled")
    expect(log).to_contain_text("Dana (Acme Manufacturing) requested 5 licences (order #129)")
    expect(log.get_by_role("row")).to_have_count(26)  # the header and 25 events

    page.get_by_role("link", name="Older").click()
    expect(page).to_have_url(re.compile(r"kind=order\.requested&before="))
    expect(log).to_contain_text("(order #104)")
    expect(log).to_contain_text("(order #100)")
    expect(log).not_to_contain_text("(order #105)")
    expect(page.get_by_role("link", name="Older")).to_have_count(0)
    page.get_by_role("link", name="Newer").click()
    expect(log).to_contain_text("(order #129)")


def test_customer_manager_downloads_the_learners(page, dana, acme):
    make_learners(acme, 3, prefix="ops")
    make_learners(acme, 2, prefix="sales")
    sign_in(page, dana.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Learners").click()
    page.get_by_label("Search learners").fill("ops")
    page.get_by_role("button", name="Search").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert re.fullmatch(r"Acme Manufacturing learners \d{4}-\d{2}-\d{2}\.csv", download.value.suggested_filename)
    body = Path(download.value.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Email,Name,Status,Licence")
    assert [line.split(",")[0] for line in lines[1:]] == [
        "ops00000@acme.test",
        "ops00001@acme.test",
        "ops00002@acme.test",
    ]
