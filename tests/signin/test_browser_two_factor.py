"""In a real browser: a partner manager sets up two-factor sign-in from the QR page
(typing the key, as an app that cannot scan would take it), signs out, and signs in
again with the password and a code computed from that key."""

import base64

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from tests.builders import sign_in

pytestmark = pytest.mark.browser


def code_from_key(typed_key: str, *, steps_ahead=0) -> str:
    key = base64.b32decode(typed_key.replace(" ", ""))
    return f"{totp(key, drift=steps_ahead):06d}"


def wrong_code(typed_key: str) -> str:
    """A code none of the steps the server accepts (previous, current, next) shows."""
    accepted = {code_from_key(typed_key, steps_ahead=n) for n in (-1, 0, 1, 2)}
    return next(code for code in (f"{n:06d}" for n in range(10)) if code not in accepted)


def test_setting_up_and_signing_in_with_a_code(page, alice, acme):
    sign_in(page, alice.email)
    expect(page.get_by_role("heading", name="Company")).to_be_visible()

    page.goto("/accounts/two-factor/")
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page.get_by_label("QR code for your authenticator app").locator("svg")).to_be_visible()
    typed_key = page.get_by_test_id("totp-secret").inner_text()

    page.get_by_label("Code from your authenticator app").fill(code_from_key(typed_key))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_text("Two-factor sign-in is on.")).to_be_visible()
    expect(page.get_by_role("heading", name="Company")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, alice.email)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.goto("/partner/companies/")  # no way round the code step
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()

    page.get_by_label("Code from your authenticator app").fill(wrong_code(typed_key))
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".errorlist")).to_contain_text("That code is not right")

    page.get_by_label("Code from your authenticator app").fill(code_from_key(typed_key, steps_ahead=1))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Company")).to_be_visible()
    assert page.url.endswith("/partner/companies/")
