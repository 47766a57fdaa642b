"""Two-factor sign-in with an authenticator app (TOTP): setting it up from a QR code,
then signing in with the password and a code. Codes are computed here as the app
computes them; each works once. Users who have not set it up sign in as before."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent
from tests.builders import PASSWORD, CaptureStatements, code_for, set_up_authenticator

Action = AuditEvent.Action
SET_UP = "/accounts/two-factor/set-up/"
CODE = "/accounts/two-factor/code/"


def sign_in_with_password(client, user):
    response = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return response


def test_setting_up_shows_a_qr_code_and_the_key_and_a_real_code_turns_it_on(client, alice):
    client.force_login(alice)
    page = client.get(SET_UP)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<path" in html  # the QR code, drawn on the server
    device = TOTPDevice.objects.get(user=alice)
    assert not device.confirmed
    assert page.context["secret"].replace(" ", "") in device.config_url
    assert "issuer=SAT%20Licences" in device.config_url
    assert client.get(SET_UP).context["secret"] == page.context["secret"]  # a reload keeps the same key

    response = client.post(SET_UP, {"code": code_for(device), "next": "/partner/companies/"})
    assert response.status_code == 302
    assert response.url == "/partner/companies/"
    device.refresh_from_db()
    alice.refresh_from_db()
    assert device.confirmed and alice.two_factor_enabled
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    [added] = AuditEvent.objects.filter(action=Action.TWO_FACTOR_DEVICE_ADDED)
    assert (added.actor, added.partner) == (alice, alice.partner)


def test_a_wrong_code_does_not_turn_it_on(client, alice):
    client.force_login(alice)
    client.get(SET_UP)
    device = TOTPDevice.objects.get(user=alice)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post(SET_UP, {"code": wrong})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    alice.refresh_from_db()
    assert not alice.two_factor_enabled
    assert AuditEvent.objects.filter(action=Action.TWO_FACTOR_CODE_FAILED, actor=alice).count() == 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦"])
def test_malformed_codes_get_a_message_not_an_error(client, alice, code):
    set_up_authenticator(alice)
    sign_in_with_password(client, alice)
    response = client.post(CODE, {"code": code})
    assert response.status_code == 200
    assert "_auth_user_id" in client.session
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_signing_in_with_a_device_asks_for_the_code_before_any_page(client, alice):
    device = set_up_authenticator(alice)
    sign_in_with_password(client, alice)

    for page in ("/", "/partner/companies/", "/licences/", "/accounts/two-factor/"):
        response = client.get(page)
        assert response.status_code == 302
        assert response.url.startswith(CODE)
    assert client.get("/partner/companies/").url == f"{CODE}?next=%2Fpartner%2Fcompanies%2F"

    response = client.post(CODE, {"code": code_for(device, steps_ahead=1), "next": "/partner/companies/"})
    assert response.status_code == 302
    assert response.url == "/partner/companies/"
    assert client.get("/partner/companies/").status_code == 200


def test_a_code_works_once(client, alice):
    device = set_up_authenticator(alice)
    sign_in_with_password(client, alice)
    code = code_for(device, steps_ahead=1)
    assert client.post(CODE, {"code": code}).status_code == 302
    client.logout()
    sign_in_with_password(client, alice)
    response = client.post(CODE, {"code": code})
    assert response.status_code == 200
    assert "already used" in response.content.decode()


def test_wrong_codes_are_paused_after_five_and_audited(client, alice):
    device = set_up_authenticator(alice)
    sign_in_with_password(client, alice)
    wrong = f"{(int(code_for(device)) + 500_000) % 1_000_000:06d}"
    for _ in range(4):
        assert client.post(CODE, {"code": wrong}).status_code == 200
    fifth = client.post(CODE, {"code": wrong})
    assert fifth.status_code == 429
    assert "Too many wrong codes" in fifth.content.decode()

    refused = client.post(CODE, {"code": code_for(device, steps_ahead=1)})
    assert refused.status_code == 429
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert client.get("/partner/companies/").status_code == 302

    assert AuditEvent.objects.filter(action=Action.TWO_FACTOR_CODE_FAILED, actor=alice).count() == 5
    [paused] = AuditEvent.objects.filter(action=Action.TWO_FACTOR_LOCKED_OUT)
    assert paused.actor == alice

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert client.post(CODE, {"code": code_for(device)}).status_code == 302
    assert client.get("/partner/companies/").status_code == 200


def test_a_password_alone_cannot_set_up_a_new_device_over_the_old_one(client, alice):
    device = set_up_authenticator(alice)
    sign_in_with_password(client, alice)
    response = client.get(SET_UP)
    assert response.status_code == 302 and response.url.startswith(CODE)
    response = client.post(SET_UP, {"code": "123456"})
    assert response.status_code == 302 and response.url.startswith(CODE)
    assert list(TOTPDevice.objects.filter(user=alice)) == [device]


def test_without_a_device_nothing_changes_and_no_device_is_looked_up(client, alice, acme):
    sign_in_with_password(client, alice)
    with CaptureStatements() as queries:
        assert client.get("/partner/companies/").status_code == 200
    assert not any("otp_" in statement for statement in queries.statements)


def test_the_next_page_must_be_one_of_ours(client, alice):
    device = set_up_authenticator(alice)
    sign_in_with_password(client, alice)
    response = client.post(CODE, {"code": code_for(device, steps_ahead=1), "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response.url == "/"


def test_htmx_requests_are_sent_to_the_code_step_with_hx_redirect(client, alice):
    set_up_authenticator(alice)
    sign_in_with_password(client, alice)
    response = client.get("/partner/companies/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(CODE)


def test_turning_it_off_removes_the_device_and_is_audited(client, alice):
    device = set_up_authenticator(alice)
    sign_in_with_password(client, alice)
    client.post(CODE, {"code": code_for(device, steps_ahead=1)})

    response = client.post("/accounts/two-factor/turn-off/", follow=True)
    assert "Two-factor sign-in is off" in response.content.decode()
    alice.refresh_from_db()
    assert not alice.two_factor_enabled
    assert not TOTPDevice.objects.filter(user=alice).exists()
    [removed] = AuditEvent.objects.filter(action=Action.TWO_FACTOR_DEVICE_REMOVED)
    assert removed.actor == alice
    assert removed.details == {"user": alice.email, "devices": 1, "by_operator": False}

    client.logout()
    sign_in_with_password(client, alice)
    assert client.get("/partner/companies/").status_code == 200


def test_turning_it_off_takes_a_session_that_passed_the_code(client, alice):
    set_up_authenticator(alice)
    sign_in_with_password(client, alice)
    response = client.post("/accounts/two-factor/turn-off/")
    assert response.status_code == 302 and response.url.startswith(CODE)
    alice.refresh_from_db()
    assert alice.two_factor_enabled


def test_the_settings_page_says_whether_it_is_on(client, dana):
    client.force_login(dana)
    assert "Set up two-factor sign-in" in client.get("/accounts/two-factor/").content.decode()
    device = set_up_authenticator(dana)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    html = client.get("/accounts/two-factor/").content.decode()
    assert "Turn off two-factor sign-in" in html


def test_signing_out_stays_open_between_password_and_code(client, alice):
    set_up_authenticator(alice)
    sign_in_with_password(client, alice)
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_passing_the_code_step_gives_the_session_a_new_key(client, alice):
    device = set_up_authenticator(alice)
    sign_in_with_password(client, alice)
    before = client.session.session_key
    client.post(CODE, {"code": code_for(device, steps_ahead=1)})
    assert client.session.session_key != before
    assert client.get("/partner/companies/").status_code == 200
