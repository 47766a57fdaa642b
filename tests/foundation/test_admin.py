"""Operators use the Django admin for the public-schema models (after the code step:
tests/signin/test_admin_two_factor.py)."""

import pytest

from accounts.models import User
from tests.builders import sign_in_with_code


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("ops@platform.test", "a-long-operator-password")


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/accounts/user/",
        "/admin/accounts/auditevent/",
        "/admin/partners/partner/",
        "/admin/customers/customer/",
        "/admin/licences/licenceorder/",
        "/admin/notifications/orderemail/",
    ],
)
def test_operator_can_open_admin_pages(client, operator, world, url):
    sign_in_with_code(client, operator)
    response = client.get(url)
    assert response.status_code == 200


def test_customer_manager_cannot_open_the_admin(client, dana):
    client.force_login(dana)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_operator_signing_in_lands_on_the_admin(client, operator):
    sign_in_with_code(client, operator)
    response = client.get("/")
    assert response.url == "/admin/"
