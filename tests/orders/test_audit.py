"""Rule 8: requested, assigned and cancelled are recorded with who, when, which customer
and whether in manage mode."""

import pytest

from accounts.models import AuditEvent
from licences.services import OrderStateError, assign_order, cancel_order, request_order
from tests.builders import enter_manage_mode, order_for


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("at", "pk"))


def test_assigned_and_cancelled_are_recorded(world):
    first = order_for(world["acme"], world["dana"], 5)
    second = order_for(world["globex"], world["erin"], 6)
    assign_order(first.pk, acting_user=world["alice"])
    cancel_order(second.pk, acting_user=world["bob"], in_manage_mode=True)

    [assigned] = events(AuditEvent.Action.ORDER_ASSIGNED)
    assert (assigned.actor, assigned.customer, assigned.partner) == (
        world["alice"],
        world["acme"],
        world["acme"].partner,
    )
    assert assigned.in_manage_mode is False
    first.refresh_from_db()
    assert assigned.details == {"order_id": first.pk, "quantity": 5, "expires_at": first.expires_at.isoformat()}
    assert assigned.at is not None

    [cancelled] = events(AuditEvent.Action.ORDER_CANCELLED)
    assert (cancelled.actor, cancelled.customer, cancelled.in_manage_mode) == (world["bob"], world["globex"], True)
    assert cancelled.details == {"order_id": second.pk, "quantity": 6}


def test_requested_records_manage_mode(world):
    request_order(world["acme"], 3, acting_user=world["alice"], in_manage_mode=True)
    request_order(world["acme"], 4, acting_user=world["dana"])
    assert [(e.actor, e.in_manage_mode, e.details["quantity"]) for e in events(AuditEvent.Action.ORDER_REQUESTED)] == [
        (world["alice"], True, 3),
        (world["dana"], False, 4),
    ]


def test_pages_pass_the_manage_mode_flag(client, world):
    """Requested in manage mode through the page; assigned from Requested Orders, which a
    partner manager uses out of manage mode."""
    client.force_login(world["alice"])
    enter_manage_mode(client, world["acme"])
    client.post("/licences/orders/request/", {"quantity": "5"})
    order = world["acme"].orders.get()
    client.post("/partner/manage/exit/")
    client.post("/partner/licences/orders/assign/", {"order": order.pk})

    [requested] = events(AuditEvent.Action.ORDER_REQUESTED)
    [assigned] = events(AuditEvent.Action.ORDER_ASSIGNED)
    assert (requested.in_manage_mode, assigned.in_manage_mode) == (True, False)


def test_refused_actions_record_nothing(world):
    order = order_for(world["acme"], world["dana"], 5, status="assigned")
    before = AuditEvent.objects.count()
    for action in (assign_order, cancel_order):
        with pytest.raises(OrderStateError):
            action(order.pk, acting_user=world["alice"])
    assert AuditEvent.objects.count() == before
