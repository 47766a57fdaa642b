"""A partner can require two-factor sign-in for its managers (Security page of the
partner dashboard). Its managers without an authenticator then set one up before
reaching any page; other partners and customer companies are not affected."""

from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import AuditEvent
from tests.builders import PASSWORD, code_for, set_up_authenticator, sign_in_with_code

Action = AuditEvent.Action
SECURITY = "/partner/security/"
SET_UP = "/accounts/two-factor/set-up/"


def require(client, required: bool):
    return client.post(SECURITY, {"require_two_factor": "on"} if required else {})


def test_a_manager_turns_the_requirement_on_and_it_is_audited(client, alice, bob):
    sign_in_with_code(client, alice)
    page = client.get(SECURITY)
    assert page.status_code == 200
    assert "Require two-factor sign-in for every manager of this partner" in page.content.decode()

    assert require(client, True).status_code == 302
    alice.partner.refresh_from_db()
    assert alice.partner.require_two_factor
    [row] = AuditEvent.objects.filter(action=Action.TWO_FACTOR_REQUIREMENT_CHANGED)
    assert (row.actor, row.partner, row.details) == (alice, alice.partner, {"required": True})

    require(client, True)  # unchanged: nothing more is written
    assert AuditEvent.objects.filter(action=Action.TWO_FACTOR_REQUIREMENT_CHANGED).count() == 1

    require(client, False)
    alice.partner.refresh_from_db()
    assert not alice.partner.require_two_factor
    assert AuditEvent.objects.filter(action=Action.TWO_FACTOR_REQUIREMENT_CHANGED).count() == 2


def test_a_manager_without_an_authenticator_must_set_one_up_before_any_page(client, world):
    alice, bob = world["alice"], world["bob"]
    alice.partner.require_two_factor = True
    alice.partner.save()

    response = client.post("/accounts/login/", {"username": bob.email, "password": PASSWORD})
    assert response.status_code == 302
    for page in ("/partner/companies/", "/partner/licences/orders/", "/partner/expiring/", SECURITY):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response.url.startswith(SET_UP)

    page = client.get(SET_UP)
    assert "Northwind Security requires two-factor sign-in for its managers." in page.content.decode()
    device = bob.totpdevice_set.get()
    assert client.post(SET_UP, {"code": code_for(device), "next": "/partner/companies/"}).url == "/partner/companies/"
    assert client.get("/partner/companies/").status_code == 200


def test_turning_it_on_sends_the_manager_who_did_it_to_set_up_too(client, alice):
    client.force_login(alice)
    response = require(client, True)
    assert response.status_code == 302
    assert client.get(response.url).url.startswith(SET_UP)


def test_a_required_authenticator_cannot_be_turned_off(client, alice):
    alice.partner.require_two_factor = True
    alice.partner.save()
    sign_in_with_code(client, alice)
    html = client.get("/accounts/two-factor/").content.decode()
    assert "It cannot be turned off" in html
    response = client.post("/accounts/two-factor/turn-off/", follow=True)
    assert "cannot be turned off" in response.content.decode()
    alice.refresh_from_db()
    assert alice.two_factor_enabled


def test_other_partners_and_customer_companies_sign_in_as_before(client, world):
    world["alice"].partner.require_two_factor = True
    world["alice"].partner.save()
    for who, home in (("charlie", "/partner/companies/"), ("dana", "/licences/"), ("lena", "/learn/")):
        client.logout()
        response = client.post("/accounts/login/", {"username": world[who].email, "password": PASSWORD}, follow=True)
        assert response.redirect_chain[-1][0] == home, who
        assert response.status_code == 200


def test_the_page_lists_the_partners_managers_and_who_has_it_on(client, world):
    set_up_authenticator(world["bob"])
    sign_in_with_code(client, world["alice"])
    table = client.get(SECURITY).content.decode()
    assert "alice@northwind.test" in table and "bob@northwind.test" in table
    assert "charlie@bluefin.test" not in table
    assert table.count("badge-ok") == 2


def test_only_partner_managers_open_the_security_page(client, world):
    client.force_login(world["dana"])
    assert client.get(SECURITY).status_code == 403
    assert client.post(SECURITY, {"require_two_factor": "on"}).status_code == 403
    world["alice"].partner.refresh_from_db()
    assert not world["alice"].partner.require_two_factor
    client.logout()
    assert client.get(SECURITY).status_code == 302


def test_a_manager_changes_only_their_own_partner(client, world):
    client.force_login(world["charlie"])
    require(client, True)
    world["alice"].partner.refresh_from_db()
    world["charlie"].partner.refresh_from_db()
    assert world["charlie"].partner.require_two_factor
    assert not world["alice"].partner.require_two_factor
    assert DEVICE_ID_SESSION_KEY not in client.session
