"""Manage mode: enter from the Company section, a banner on every page, Exit, audit."""

from accounts.models import AuditEvent
from customers.middleware import MANAGED_CUSTOMER_SESSION_KEY


def test_manage_company_enters_manage_mode_and_is_audited(client, alice, acme):
    client.force_login(alice)
    response = client.post(f"/partner/companies/{acme.pk}/manage/", follow=True)

    assert response.redirect_chain[-1][0] == "/licences/"
    assert client.session[MANAGED_CUSTOMER_SESSION_KEY] == acme.pk
    assert b"You are managing <strong>Acme Manufacturing</strong>" in response.content
    # The customer-side navigation replaces the partner's.
    assert b'href="/learners/"' in response.content
    assert b'href="/partner/companies/"' not in response.content
    event = AuditEvent.objects.get(action=AuditEvent.Action.MANAGE_MODE_ENTERED)
    assert (event.actor, event.customer, event.partner, event.in_manage_mode) == (alice, acme, acme.partner, True)


def test_banner_is_on_every_customer_page(client, alice, acme):
    client.force_login(alice)
    client.post(f"/partner/companies/{acme.pk}/manage/")
    for url in ["/licences/", "/licences/orders/", "/licences/expired/", "/learners/"]:
        assert b'data-testid="manage-banner"' in client.get(url).content, url


def test_exit_returns_to_the_partner_dashboard_and_is_audited(client, alice, acme):
    client.force_login(alice)
    client.post(f"/partner/companies/{acme.pk}/manage/")
    response = client.post("/partner/manage/exit/", follow=True)

    assert response.redirect_chain[-1][0] == "/partner/companies/"
    assert MANAGED_CUSTOMER_SESSION_KEY not in client.session
    assert b"manage-banner" not in response.content
    event = AuditEvent.objects.get(action=AuditEvent.Action.MANAGE_MODE_LEFT)
    assert (event.actor, event.customer) == (alice, acme)


def test_entering_requires_post(client, alice, acme):
    client.force_login(alice)
    assert client.get(f"/partner/companies/{acme.pk}/manage/").status_code == 405
    assert MANAGED_CUSTOMER_SESSION_KEY not in client.session


def test_switching_company_replaces_the_managed_one(client, alice, acme, globex):
    client.force_login(alice)
    client.post(f"/partner/companies/{acme.pk}/manage/")
    client.post(f"/partner/companies/{globex.pk}/manage/")
    response = client.get("/licences/")
    assert response.context["current_customer"] == globex
