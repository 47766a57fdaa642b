"""The API page in a real browser: create a token, copy its secret (shown once), see
it work against the API, revoke it, see it stop."""

import pytest
from playwright.sync_api import expect

from api.models import ApiToken
from tests.builders import sign_in

pytestmark = pytest.mark.browser


def test_create_copy_once_and_revoke_a_token(page, alice, acme):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, alice.email)
    page.get_by_role("link", name="API", exact=True).click()
    expect(page.get_by_role("heading", name="API", exact=True)).to_be_visible()

    form = page.get_by_role("form", name="Create token")
    form.get_by_label("Name").fill("PSA sync")
    form.get_by_label("Read and write").check()
    form.get_by_role("button", name="Create token").click()

    secret = page.get_by_test_id("new-token-secret")
    expect(secret).to_contain_text("lic_")
    token = secret.inner_text().strip()
    page.get_by_test_id("new-token").get_by_role("button", name="Copy").click()
    expect(page.get_by_test_id("new-token").get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == token

    headers = {"Authorization": f"Bearer {token}"}
    answer = page.request.get("/api/v1/customers", headers=headers)
    assert answer.status == 200 and answer.json()["items"][0]["name"] == "Acme Manufacturing"

    # Shown once: the page does not show it again, and the database never had it.
    page.get_by_role("link", name="API", exact=True).click()
    expect(page.get_by_test_id("new-token")).to_have_count(0)
    assert token not in page.content()
    stored = ApiToken.objects.get()
    assert token not in (stored.secret_hash, stored.key_id)
    row = page.get_by_test_id("tokens").get_by_role("row").filter(has_text="PSA sync")
    expect(row).to_contain_text(stored.prefix)

    page.on("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("is revoked: it no longer works")).to_be_visible()
    expect(page.get_by_test_id("tokens").get_by_role("row").filter(has_text="PSA sync")).to_contain_text("Revoked")
    assert page.request.get("/api/v1/customers", headers=headers).status == 401
