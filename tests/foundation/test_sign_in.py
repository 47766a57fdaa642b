"""Sign-in lands each role on its own home; sign-out and password reset work."""

import re

import pytest
from django.conf import settings
from django.core import mail

from tests.builders import PASSWORD


@pytest.mark.parametrize(
    ("who", "home"),
    [("alice", "/partner/companies/"), ("dana", "/licences/"), ("lena", "/learn/")],
)
def test_each_role_lands_on_its_home(client, world, who, home):
    user = world[who]
    response = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == home
    assert response.status_code == 200


def test_email_is_case_insensitive(client, alice):
    response = client.post("/accounts/login/", {"username": "  ALICE@Northwind.test ", "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_password_is_refused_with_a_clear_message(client, alice):
    response = client.post("/accounts/login/", {"username": alice.email, "password": "nope"})
    assert response.status_code == 200
    assert b"do not match an active account" in response.content
    assert "_auth_user_id" not in client.session


def test_sign_out(client, alice):
    client.force_login(alice)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email(client, dana):
    response = client.post("/accounts/password-reset/", {"email": dana.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    # The link starts with SITE_URL (tests/production/test_password_reset_link.py).
    link = re.search(re.escape(settings.SITE_URL) + r"(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)

    response = client.get(link, follow=True)
    new_password = "a-new-and-long-password-2026"
    response = client.post(
        response.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}
    )
    assert response.status_code == 302
    dana.refresh_from_db()
    assert dana.check_password(new_password)


def test_password_reset_for_unknown_email_sends_nothing(client, world):
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.test"})
    assert response.status_code == 302
    assert mail.outbox == []
