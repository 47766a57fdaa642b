"""Assign and Cancel from the three dots menu of Requested Orders (guide, Step 2)."""

import pytest
from django.core.exceptions import PermissionDenied

from licences.models import LicenceOrder, OrderStatus
from licences.services import OrderStateError, assign_order, cancel_order
from tests.builders import REQUESTED_ORDERS, order_for

ASSIGN = "/partner/licences/orders/assign/"
CANCEL = "/partner/licences/orders/cancel/"


def test_requested_row_has_a_three_dots_menu_with_assign_and_cancel(client, world):
    order = order_for(world["acme"], world["dana"], 5)
    order_for(world["acme"], world["dana"], 6, status="assigned")
    client.force_login(world["alice"])
    page = client.get(REQUESTED_ORDERS, {"status": "any"}).content.decode()
    assert page.count('aria-label="Order actions"') == 1  # the requested row only
    assert f'formaction="{ASSIGN}" name="order" value="{order.pk}" role="menuitem">Assign</button>' in page
    assert f'formaction="{CANCEL}" name="order" value="{order.pk}" role="menuitem" class="danger"' in page
    # The one form the buttons submit carries the CSRF token.
    assert '<form id="order-action" method="post" hidden><input type="hidden" name="csrfmiddlewaretoken"' in page


def test_assign(client, world, django_capture_on_commit_callbacks):
    order = order_for(world["acme"], world["dana"], 5)
    client.force_login(world["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ASSIGN, {"order": order.pk, "return_query": "status=any"}, follow=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.ASSIGNED
    assert order.assigned_by == world["alice"]
    assert response.redirect_chain == [(f"{REQUESTED_ORDERS}?status=any", 302)]
    assert f"Order #{order.pk} assigned: 5 licences for Acme Manufacturing, valid until" in response.content.decode()


def test_assign_needs_csrf(world):
    from django.test import Client

    order = order_for(world["acme"], world["dana"], 5)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["alice"])
    assert client.post(ASSIGN, {"order": order.pk}).status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUESTED


def test_assign_is_post_only(client, world):
    order = order_for(world["acme"], world["dana"], 5)
    client.force_login(world["alice"])
    assert client.get(ASSIGN, {"order": order.pk}).status_code == 405


@pytest.mark.parametrize("url", [ASSIGN, CANCEL])
def test_another_partners_manager_gets_404(client, world, url):
    order = order_for(world["acme"], world["dana"], 5)
    client.force_login(world["charlie"])
    assert client.post(url, {"order": order.pk}).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUESTED


@pytest.mark.parametrize("who", ["dana", "lena"])
def test_customer_side_cannot_assign(client, world, who):
    order = order_for(world["acme"], world["dana"], 5)
    client.force_login(world[who])
    assert client.post(ASSIGN, {"order": order.pk}).status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUESTED


@pytest.mark.parametrize("value", ["", "abc", "0", "99999999", "1e3", str(2**70)])
def test_missing_or_unknown_order_gives_404(client, world, value):
    client.force_login(world["alice"])
    assert client.post(ASSIGN, {"order": value}).status_code == 404


def test_second_assign_says_it_is_already_assigned(client, world, mailoutbox, django_capture_on_commit_callbacks):
    order = order_for(world["acme"], world["dana"], 5)
    client.force_login(world["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(ASSIGN, {"order": order.pk})
    first = LicenceOrder.objects.get(pk=order.pk)
    client.force_login(world["bob"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ASSIGN, {"order": order.pk}, follow=True)
    assert f"Order #{order.pk} is already assigned." in response.content.decode()
    again = LicenceOrder.objects.get(pk=order.pk)
    assert (again.assigned_by, again.assigned_at, again.expires_at) == (
        world["alice"],
        first.assigned_at,
        first.expires_at,
    )
    assert len(mailoutbox) == 1


def test_cancel(client, world):
    order = order_for(world["acme"], world["dana"], 5)
    client.force_login(world["alice"])
    response = client.post(CANCEL, {"order": order.pk, "return_query": "customer=1"}, follow=True)
    order.refresh_from_db()
    assert (order.status, order.cancelled_by) == (OrderStatus.CANCELLED, world["alice"])
    assert order.cancelled_at is not None and order.expires_at is None
    assert response.redirect_chain == [(f"{REQUESTED_ORDERS}?customer=1", 302)]
    assert f"Order #{order.pk} for Acme Manufacturing cancelled." in response.content.decode()


def test_cancelled_order_cannot_be_assigned_nor_cancelled_again(client, world):
    order = order_for(world["acme"], world["dana"], 5, status="cancelled")
    client.force_login(world["alice"])
    response = client.post(ASSIGN, {"order": order.pk}, follow=True)
    assert f"Order #{order.pk} is already cancelled." in response.content.decode()
    assert "already cancelled" in client.post(CANCEL, {"order": order.pk}, follow=True).content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_assigned_order_cannot_be_cancelled(alice, world):
    order = order_for(world["acme"], world["dana"], 5, status="assigned")
    with pytest.raises(OrderStateError, match="already assigned"):
        cancel_order(order.pk, acting_user=alice)


def test_return_query_cannot_send_anywhere_else(client, world):
    order = order_for(world["acme"], world["dana"], 5)
    client.force_login(world["alice"])
    response = client.post(ASSIGN, {"order": order.pk, "return_query": "https://evil.test/?x=1"})
    assert response["Location"].startswith(f"{REQUESTED_ORDERS}?")
    assert "evil.test" not in response["Location"].split("?")[0]


def test_service_rules(world):
    order = order_for(world["acme"], world["dana"], 5)
    with pytest.raises(PermissionDenied):
        assign_order(order.pk, acting_user=world["dana"])  # a customer manager
    with pytest.raises(PermissionDenied):
        assign_order(order.pk, acting_user=world["alice"], partner=world["initech"].partner)
    with pytest.raises(LicenceOrder.DoesNotExist):
        assign_order(order.pk, acting_user=world["charlie"])
    assert assign_order(order, acting_user=world["bob"]).status == OrderStatus.ASSIGNED  # an order or its id
