"""A forged customer gets nothing: the customer an order is for comes from the request's
tenant, the filter's customer must be one of the partner's, and another partner's
customer is never reachable."""

import pytest
from django.core.exceptions import PermissionDenied

from licences.models import LicenceOrder
from licences.services import request_order
from tests.builders import REQUESTED_ORDERS, enter_manage_mode, listed_ids, order_for

REQUEST = "/licences/orders/request/"


def test_customer_field_in_the_post_is_ignored(client, dana, acme, initech):
    client.force_login(dana)
    client.post(REQUEST, {"quantity": "5", "customer": initech.pk, "customer_id": initech.pk})
    assert list(LicenceOrder.objects.values_list("customer", flat=True)) == [acme.pk]


def test_manage_mode_on_another_partners_customer_is_refused(client, charlie, acme):
    client.force_login(charlie)
    enter_manage_mode(client, acme)  # a tampered session
    assert client.post(REQUEST, {"quantity": "5"}).status_code == 403
    assert not LicenceOrder.objects.exists()


@pytest.mark.parametrize("who", ["charlie", "erin", "lena"])
def test_service_refuses_to_order_for_someone_elses_customer(world, who):
    with pytest.raises(PermissionDenied):
        request_order(world["acme"], 5, acting_user=world[who])
    assert not LicenceOrder.objects.exists()


def test_deactivated_customer_cannot_order(alice, acme):
    acme.is_active = False
    acme.save()
    with pytest.raises(PermissionDenied):
        request_order(acme, 5, acting_user=alice)


@pytest.mark.parametrize("forged", ["initech", "999999", "abc", "-1"])
def test_forged_customer_filter_leaks_nothing(client, world, forged):
    order_for(world["initech"], world["frank"], 77)
    mine = order_for(world["acme"], world["dana"], 5)
    client.force_login(world["alice"])
    value = world["initech"].pk if forged == "initech" else forged
    response = client.get(REQUESTED_ORDERS, {"customer": value})
    page = response.content.decode()
    assert "Choose one of your customers." in page
    assert listed_ids(response) == []
    assert "Initech" not in page
    assert mine.pk  # the partner's own order is not listed either: the filter is wrong, not empty


def test_other_partners_orders_are_never_listed(client, world):
    theirs = order_for(world["initech"], world["frank"], 77)
    mine = order_for(world["acme"], world["dana"], 5)
    client.force_login(world["alice"])
    response = client.get(REQUESTED_ORDERS, {"status": "any"})
    assert listed_ids(response) == [mine.pk]
    client.force_login(world["charlie"])
    assert listed_ids(client.get(REQUESTED_ORDERS)) == [theirs.pk]


def test_customer_choices_are_the_partners_own(client, world):
    client.force_login(world["alice"])
    response = client.get(REQUESTED_ORDERS, {"filters": "open"})
    page = response.content.decode()
    # A search box (partners/picker.py), scoped to the partner: tests/scale.
    assert "data-customer-picker" in page
    assert "Initech" not in page


def test_requester_must_be_one_of_the_partners_managers(client, world):
    order_for(world["initech"], world["charlie"], 77)
    client.force_login(world["alice"])
    response = client.get(REQUESTED_ORDERS, {"requester": world["charlie"].pk, "status": "any"})
    assert "Choose one of the people in the list." in response.content.decode()
    assert listed_ids(response) == []
