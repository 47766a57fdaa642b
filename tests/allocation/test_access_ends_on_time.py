"""Rules 4 and 5, derived from the clock: access ends at the exact expiry moment,
with no job having run."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from learners import reads, roster
from learners.models import Learner
from tests.builders import assigned_order, enter_manage_mode, give_seats, move_expiry

ONE_SECOND = timedelta(seconds=1)


@pytest.fixture
def lena_on_an_order(alice, acme, lena):
    """lena holds a seat of acme's only order, which expires in an hour."""
    order = assigned_order(acme, 5, alice)
    with acme:
        lena_id = Learner.objects.get(email=lena.email).pk
    give_seats(acme, order, [lena_id])
    return move_expiry(acme, order, timezone.now().replace(microsecond=0) + timedelta(hours=1))


def test_learner_has_access_one_second_before_expiry_and_not_at_it(client, lena, lena_on_an_order):
    expires_at = lena_on_an_order.expires_at
    client.force_login(lena)

    with time_machine.travel(expires_at - ONE_SECOND, tick=False):
        response = client.get("/learn/")
        assert b'data-testid="training-home"' in response.content
        assert b"Your licence has expired" not in response.content

    with time_machine.travel(expires_at, tick=False):
        response = client.get("/learn/")
        assert b'data-testid="training-home"' not in response.content
        assert b"Your licence has expired" in response.content


def test_the_expired_page_names_whom_to_contact(client, lena, dana, lena_on_an_order):
    client.force_login(lena)
    with time_machine.travel(lena_on_an_order.expires_at, tick=False):
        response = client.get("/learn/")
    assert dana.email.encode() in response.content
    assert b"Acme Manufacturing" in response.content


def test_a_learner_without_any_licence_sees_only_the_expired_page(client, lena):
    client.force_login(lena)
    response = client.get("/learn/")
    assert b'data-testid="licence-expired"' in response.content
    assert b"You have no licence yet" in response.content
    assert b'data-testid="training-home"' not in response.content
    assert client.get("/licences/expired/").status_code == 403
    assert client.get("/learners/").status_code == 403


def test_the_learner_joins_the_expired_licences_tab_at_expiry(client, dana, lena, lena_on_an_order):
    client.force_login(dana)
    expires_at = lena_on_an_order.expires_at
    # A second, later order keeps acme itself from expiring: only lena's seat ends.
    assigned_order(acme := lena_on_an_order.customer, 3, lena_on_an_order.requested_by)

    with time_machine.travel(expires_at - ONE_SECOND, tick=False):
        assert lena.email.encode() not in client.get("/licences/expired/").content
        with acme:
            assert not reads.expired_learners().exists()
    with time_machine.travel(expires_at, tick=False):
        assert lena.email.encode() in client.get("/licences/expired/").content
        with acme:
            assert reads.holds_valid_licence(lena.email, timezone.now()) is False


def test_the_customer_expires_with_its_last_order_and_its_managers_see_the_renewal_page(client, dana, lena_on_an_order):
    client.force_login(dana)
    expires_at = lena_on_an_order.expires_at

    with time_machine.travel(expires_at - ONE_SECOND, tick=False):
        assert client.get("/learners/").status_code == 200
        assert client.get("/licences/").status_code == 200

    with time_machine.travel(expires_at, tick=False):
        for url in ("/", "/licences/", "/learners/", "/learners/add/"):
            response = client.get(url, follow=True)
            assert response.redirect_chain[-1][0] == "/licences/renewal/", url
            assert b"Your licences have expired" in response.content
        # The licence pages needed to renew stay open.
        for url in (
            "/licences/orders/",
            "/licences/expired/",
            "/licences/expired/import-allocation/",
            "/licences/renewal/",
        ):
            assert client.get(url).status_code == 200, url


def test_partner_managers_in_manage_mode_are_not_locked_out(client, alice, acme, lena_on_an_order):
    client.force_login(alice)
    enter_manage_mode(client, acme)
    with time_machine.travel(lena_on_an_order.expires_at + timedelta(hours=1), tick=False):
        assert client.get("/learners/").status_code == 200
        assert client.get("/licences/").status_code == 200


def test_the_renewal_page_sends_a_customer_with_valid_licences_to_the_overview(client, dana, lena_on_an_order):
    client.force_login(dana)
    response = client.get("/licences/renewal/")
    assert response.status_code == 302
    assert response["Location"] == "/licences/"


def test_a_customer_that_never_had_licences_is_not_expired(client, dana):
    client.force_login(dana)
    assert client.get("/learners/").status_code == 200


def test_deactivated_learners_lose_access_at_once(client, acme, dana, lena, lena_on_an_order):
    client.force_login(lena)
    assert b'data-testid="training-home"' in client.get("/learn/").content
    with acme:
        learner_id = Learner.objects.get(email=lena.email).pk
    roster.deactivate_learner(acme, learner_id, acting_user=dana)
    assert b"Your licence has expired" in client.get("/learn/").content
