"""Every role's pages render for that role, with the navigation it should see."""

import pytest

from tests.builders import enter_manage_mode


@pytest.mark.parametrize(
    "url", ["/licences/", "/licences/orders/", "/licences/expiring/", "/licences/expired/", "/learners/"]
)
def test_customer_manager_pages(client, dana, url):
    client.force_login(dana)
    response = client.get(url)
    assert response.status_code == 200
    assert b"Acme Manufacturing" in response.content


@pytest.mark.parametrize("url", ["/partner/companies/", "/partner/licences/orders/"])
def test_partner_pages(client, alice, acme, url):
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 200
    assert b"Northwind Security" in response.content


def test_customer_pages_in_manage_mode_show_the_banner(client, alice, acme):
    client.force_login(alice)
    enter_manage_mode(client, acme)
    response = client.get("/licences/")
    assert response.status_code == 200
    assert b"You are managing <strong>Acme Manufacturing</strong>" in response.content
    assert b">Exit</button>" in response.content


def test_learner_portal(client, lena):
    client.force_login(lena)
    response = client.get("/learn/")
    assert response.status_code == 200
