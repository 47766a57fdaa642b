"""Every page of the product, walked in one browser as each kind of visitor, passes
axe-core's WCAG 2.1 A and AA rules: the sign-in pages, the partner dashboard, a
customer manager's pages (a valid customer, and an expired one on its renewal page),
a partner manager in manage mode, and the learner portal. The SVG charts included.

axe-core (MPL-2.0, https://github.com/dequelabs/axe-core) is vendored beside this
file, licence header intact (``axe.min.js``, licence in ``axe-core-LICENSE.txt``),
and injected from here with ``add_script_tag(path=...)``: no network. The script
goes in inline, which the pages' Content-Security-Policy refuses, so these browser
contexts bypass the policy (``bypass_csp``); tests/production checks the policy.

To check a new page, add a row to PAGES: who visits it and its URL (a function of
the world's objects when it names one), and its status when not 200."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from learners import imports
from learners.models import CsvUpload
from licences import seat_use
from tests.builders import (
    PASSWORD,
    add_webhook_endpoint,
    assigned_order,
    expired_learners_of,
    give_seats,
    make_learners,
    make_token,
    order_for,
)

pytestmark = pytest.mark.browser

AXE = Path(__file__).with_name("axe.min.js")
WCAG_21_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Who visits, the URL (or a function of the world giving it), and the status when it
# is not 200. Visitors:
# "anonymous", "partner" (alice), "manage" (alice managing Acme), "customer" (dana,
# Acme's manager), "expired" (erin: Globex's licences have all expired), "learner" (lena).
PAGES = [
    # Signing in, and the pages around it.
    ("anonymous", "/accounts/login/"),
    ("anonymous", "/accounts/password-reset/"),
    ("anonymous", "/accounts/password-reset/sent/"),
    ("anonymous", "/accounts/reset/MQ/not-a-valid-token/"),  # the link-has-expired page
    ("anonymous", "/accounts/reset/done/"),
    ("anonymous", "/accounts/no-access/"),
    ("anonymous", "/notifications/digest/unsubscribe/not-a-signed-link/", 400),
    # The partner dashboard.
    ("partner", "/partner/companies/"),
    ("partner", "/partner/licences/orders/"),
    ("partner", "/partner/licences/orders/?filters=open"),
    ("partner", "/partner/expiring/"),
    ("partner", "/partner/notifications/"),
    ("partner", lambda w: f"/partner/companies/{w['acme'].pk}/notifications/"),
    ("partner", "/partner/security/"),
    ("partner", "/partner/activity/"),
    ("partner", "/partner/api/"),
    ("partner", "/api/docs"),
    ("partner", lambda w: f"/partner/api/webhooks/{w['endpoint'].pk}/"),
    ("partner", "/accounts/two-factor/"),
    ("partner", "/accounts/two-factor/set-up/"),
    # A customer manager.
    ("customer", "/licences/"),
    ("customer", "/licences/orders/"),
    ("customer", "/licences/orders/request/"),
    ("customer", "/licences/expired/"),
    ("customer", "/licences/expiring/"),
    ("customer", "/licences/expiring/import-allocation/"),
    ("customer", "/activity/"),
    ("customer", "/learners/"),
    ("customer", "/learners/add/"),
    ("customer", "/learners/import/"),
    ("customer", lambda w: f"/learners/import/{w['learners_upload'].token}/"),
    ("customer", "/licences/expired/import-allocation/"),
    ("customer", lambda w: f"/licences/expired/import-allocation/{w['allocation_upload'].token}/?column=0"),
    ("customer", lambda w: f"/imports/{w['queued_upload'].token}/"),
    # A customer whose licences have all expired: the renewal page and what it keeps.
    ("expired", "/licences/renewal/"),
    ("expired", "/licences/expired/"),
    # A partner manager in manage mode.
    ("manage", "/licences/"),
    ("manage", "/learners/"),
    ("manage", "/licences/expiring/?days=90"),
    ("manage", "/activity/"),
    # A learner, and the pages that say no (with their status).
    ("learner", "/learn/"),
    ("learner", "/licences/", 403),
    ("learner", "/no-such-page/", 404),
]

SIGN_INS = {"partner": "alice", "manage": "alice", "customer": "dana", "expired": "erin", "learner": "lena"}


def a_world_to_look_at(world):
    """Demo-like data, so every page has rows, badges and charts to check."""
    acme, globex, alice, dana, erin = (world[k] for k in ("acme", "globex", "alice", "dana", "erin"))
    now = timezone.now()
    main = assigned_order(acme, 40, alice, expires_at=now + timedelta(days=200))
    give_seats(acme, main, make_learners(acme, 12), by=dana)
    assigned_order(acme, 10, alice, expires_at=now + timedelta(hours=60))  # an upcoming expiry
    expired_learners_of(acme, 3, alice, prefix="lapsed")
    order_for(acme, dana, 25)  # requested: waits on Requested Orders
    order_for(acme, alice, 5, status="cancelled")
    expired_learners_of(globex, 5, alice)  # Globex: nothing valid left
    order_for(globex, erin, 30)
    today = now.astimezone(acme.tzinfo).date()
    seat_use.store_days(acme, [(today - timedelta(days=d), 12 + d % 9) for d in range(1, 372)])
    make_token(alice, name="PSA sync")
    world["endpoint"] = add_webhook_endpoint(alice, "http://127.0.0.1:9/hook", "order.assigned")
    csv = b"email,name\nlearner00001@acme.test,Learner One\nnew@acme.test,New Person\n"

    def upload(purpose):
        return imports.store_upload(acme, SimpleUploadedFile("people.csv", csv), purpose, acting_user=dana)

    world["learners_upload"] = upload(CsvUpload.Purpose.IMPORT_LEARNERS)
    world["allocation_upload"] = upload(CsvUpload.Purpose.IMPORT_ALLOCATION)
    world["queued_upload"] = upload(CsvUpload.Purpose.IMPORT_LEARNERS)
    with acme:
        CsvUpload.objects.filter(pk=world["queued_upload"].pk).update(state=CsvUpload.State.QUEUED, progress_total=2)
    return world


# Pages drawn by script after they load: axe waits for what they draw.
DRAWN = {"/api/docs": ".opblock-summary-method"}


def violations_on(page, url, status=200) -> list[str]:
    response = page.goto(url)
    assert response is not None and response.status == status, (url, response and response.status)
    if url in DRAWN:
        page.wait_for_selector(DRAWN[url])
    return [
        f"{url}: {v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(node["target"]) + " " + node["failureSummary"].replace("\n", " ") for node in v["nodes"])
        for v in axe_violations(page)
    ]


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_21_A_AA,
    )
    return results["violations"]


def new_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", bypass_csp=True)
    context.set_default_timeout(30_000)  # axe on a page of a loaded CI machine takes seconds
    return context, context.new_page()


def signed_in(browser, live_server, who, world):
    context, page = new_page(browser, live_server)
    if who != "anonymous":
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(world[SIGN_INS[who]].email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if who == "manage":
        page.goto("/partner/companies/")
        row = page.get_by_role("row").filter(has_text="Acme Manufacturing")
        row.get_by_text("Actions").click()
        row.get_by_role("button", name="Manage Company").click()
        page.get_by_test_id("manage-banner").wait_for()
    return context, page


def test_every_page_passes_axe_wcag_21_a_and_aa(live_server, tenant_transactional_db, browser, world):
    world = a_world_to_look_at(world)
    found, visited = [], 0
    for who in dict.fromkeys(row[0] for row in PAGES):
        context, page = signed_in(browser, live_server, who, world)
        try:
            for visitor, url, *status in PAGES:
                if visitor == who:
                    found += violations_on(page, url(world) if callable(url) else url, *status)
                    visited += 1
            if who == "anonymous":
                # The check can fail: an image without a text alternative is reported.
                page.goto("/accounts/login/")
                page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/\">')")
                assert "image-alt" in {v["id"] for v in axe_violations(page)}
        finally:
            context.close()
    assert visited == len(PAGES)
    assert found == [], "\n".join(found)
