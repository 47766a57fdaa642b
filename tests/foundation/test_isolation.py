"""Rule 1: each person sees and manages only their own companies, re-checked on
every request; nothing is trusted from the session alone."""

import pytest

from customers.middleware import MANAGED_CUSTOMER_SESSION_KEY
from tests.builders import enter_manage_mode


def test_partner_lists_only_its_own_customers(client, alice, acme, globex, initech):
    client.force_login(alice)
    response = client.get("/partner/companies/")
    names = [customer.name for customer in response.context["page"]]
    assert names == ["Acme Manufacturing", "Globex Retail"]


def test_other_partners_manager_sees_none_of_them(client, charlie, acme, globex, initech):
    client.force_login(charlie)
    response = client.get("/partner/companies/")
    assert [customer.name for customer in response.context["page"]] == ["Initech Finance"]
    assert b"Acme" not in response.content


def test_forged_customer_id_in_url_gives_404(client, charlie, acme):
    client.force_login(charlie)
    response = client.post(f"/partner/companies/{acme.pk}/manage/")
    assert response.status_code == 404
    assert MANAGED_CUSTOMER_SESSION_KEY not in client.session


def test_forged_customer_id_in_session_is_ignored_and_dropped(client, charlie, acme):
    client.force_login(charlie)
    enter_manage_mode(client, acme)  # as if charlie had tampered with his session
    response = client.get("/licences/")
    assert response.status_code == 403
    assert MANAGED_CUSTOMER_SESSION_KEY not in client.session


def test_manager_removed_from_partner_loses_manage_mode_on_next_request(client, alice, partner_b, acme):
    client.force_login(alice)
    client.post(f"/partner/companies/{acme.pk}/manage/")
    assert client.get("/licences/").status_code == 200

    alice.partner = partner_b
    alice.save()

    response = client.get("/licences/", follow=True)
    assert response.status_code == 403
    assert MANAGED_CUSTOMER_SESSION_KEY not in client.session


def test_customer_moved_to_another_partner_ends_manage_mode(client, alice, partner_b, acme):
    client.force_login(alice)
    client.post(f"/partner/companies/{acme.pk}/manage/")
    acme.partner = partner_b
    acme.save()
    assert client.get("/licences/").status_code == 403
    assert MANAGED_CUSTOMER_SESSION_KEY not in client.session


def test_deactivated_partner_manager_is_signed_out(client, alice, acme):
    client.force_login(alice)
    alice.is_active = False
    alice.save()
    response = client.get("/partner/companies/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_customer_manager_cannot_reach_partner_pages(client, dana):
    client.force_login(dana)
    assert client.get("/partner/companies/").status_code == 403
    assert client.get("/partner/licences/orders/").status_code == 403


def test_customer_manager_cannot_enter_another_customer(client, dana, globex):
    client.force_login(dana)
    assert client.post(f"/partner/companies/{globex.pk}/manage/").status_code == 403
    # Even a forged session key does not move a customer manager out of their company.
    enter_manage_mode(client, globex)
    response = client.get("/licences/")
    assert response.status_code == 200
    assert response.context["current_customer"] == dana.customer


@pytest.mark.parametrize(
    "url", ["/licences/", "/licences/orders/", "/licences/expired/", "/learners/", "/partner/companies/"]
)
def test_learner_cannot_reach_manager_pages(client, lena, url):
    client.force_login(lena)
    assert client.get(url).status_code == 403


def test_partner_manager_outside_manage_mode_cannot_reach_customer_pages(client, alice, acme):
    client.force_login(alice)
    assert client.get("/licences/").status_code == 403


def test_anonymous_is_sent_to_sign_in(client, world):
    for url in ["/partner/companies/", "/licences/", "/learn/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url == f"/accounts/login/?next={url}"


def test_deactivated_customer_locks_out_its_people(client, dana, lena, alice, acme):
    acme.is_active = False
    acme.save()
    client.force_login(dana)
    assert client.get("/licences/").status_code == 403
    client.force_login(lena)
    assert client.get("/learn/").status_code == 403
    client.force_login(alice)
    assert client.post(f"/partner/companies/{acme.pk}/manage/").status_code == 404
