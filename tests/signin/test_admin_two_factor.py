"""Operators must give a code for the admin: the admin's sign-in page takes the
password, then the code step (or setting up an authenticator) comes before any admin
page. An operator resets a user's authenticator from the admin, audited."""

from django.contrib import admin
from django.test import RequestFactory
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, User
from tests.builders import OPERATOR_PASSWORD, PASSWORD, code_for, set_up_authenticator, sign_in_with_code

Action = AuditEvent.Action


def admin_sign_in(client, operator):
    response = client.post(
        "/admin/login/?next=/admin/accounts/user/", {"username": operator.email, "password": OPERATOR_PASSWORD}
    )
    assert response.status_code == 302
    return response


def test_an_operator_without_an_authenticator_sets_one_up_before_the_admin(client, operator):
    admin_sign_in(client, operator)
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 302
    assert response.url == "/accounts/two-factor/set-up/?next=%2Fadmin%2Faccounts%2Fuser%2F"
    page = client.get(response.url)
    assert "Operators must use two-factor sign-in" in page.content.decode()

    device = TOTPDevice.objects.get(user=operator)
    response = client.post(response.url, {"code": code_for(device), "next": "/admin/accounts/user/"})
    assert response.url == "/admin/accounts/user/"
    assert client.get("/admin/accounts/user/").status_code == 200


def test_an_operator_with_an_authenticator_gives_a_code_for_the_admin(client, operator):
    device = set_up_authenticator(operator)
    admin_sign_in(client, operator)
    for page in ("/admin/", "/admin/accounts/auditevent/", "/admin/login/"):
        response = client.get(page)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/two-factor/code/")
    response = client.post("/accounts/two-factor/code/", {"code": code_for(device, steps_ahead=1), "next": "/admin/"})
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_admin_site_itself_refuses_an_operator_whose_session_has_no_code(operator):
    """Beside the gate, the admin site checks it too (django-otp's OTPAdminSite)."""
    request = RequestFactory().get("/admin/")
    request.user = operator
    operator.otp_device = None
    operator.is_verified = lambda: False
    assert not admin.site.has_permission(request)
    operator.is_verified = lambda: True
    assert admin.site.has_permission(request)


def test_an_operator_resets_a_users_authenticator_from_the_admin(client, operator, world):
    alice = world["alice"]
    set_up_authenticator(alice)
    sign_in_with_code(client, operator)
    response = client.post(
        "/admin/accounts/user/",
        {"action": "reset_two_factor", "_selected_action": [alice.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Two-factor sign-in reset for alice@northwind.test" in response.content.decode()
    alice.refresh_from_db()
    assert not alice.two_factor_enabled
    assert not TOTPDevice.objects.filter(user=alice).exists()
    [row] = AuditEvent.objects.filter(action=Action.TWO_FACTOR_DEVICE_REMOVED)
    assert (row.actor, row.partner) == (operator, alice.partner)
    assert row.details == {"user": alice.email, "devices": 1, "by_operator": True}

    # alice's partner does not require it: she signs in with her password alone again.
    client.logout()
    client.post("/accounts/login/", {"username": alice.email, "password": PASSWORD})
    assert client.get("/partner/companies/").status_code == 200


def test_a_reset_ends_the_verified_session_of_that_user(client, world, operator):
    alice = world["alice"]
    alice.partner.require_two_factor = True
    alice.partner.save()
    sign_in_with_code(client, alice)
    assert client.get("/partner/companies/").status_code == 200
    from accounts import two_factor

    two_factor.remove_devices(User.objects.get(pk=alice.pk), acting_user=operator)
    response = client.get("/partner/companies/")
    assert response.url.startswith("/accounts/two-factor/set-up/")
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_authenticators_are_read_only_in_the_admin_and_never_show_the_secret(client, operator, world):
    device = set_up_authenticator(world["alice"])
    sign_in_with_code(client, operator)
    listing = client.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200
    assert "alice@northwind.test" in listing.content.decode()
    detail = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert detail.status_code == 200
    assert device.key not in detail.content.decode()
    assert client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/otp_totp/totpdevice/add/").status_code == 403
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
