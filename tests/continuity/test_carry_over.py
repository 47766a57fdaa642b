"""Carry-over at expiry, on purpose only: off by default and audited when changed; at
the order's exact expiry moment the expiry job moves its active learners to free
seats of later orders (in email order when seats run short), once, and the expiry
notice says who was moved and who was not; never for an order that expired before
the setting was turned on, never for deactivated learners."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from learners import carry_over
from learners.models import Allocation, CarryOver, Learner
from notifications.models import EmailKind
from tests.builders import (
    assigned_order,
    give_seats,
    kind_of,
    make_learners,
    move_expiry,
    run_scheduler,
)


@pytest.fixture
def expiring(alice, acme, dana):
    """Five Acme learners on an order expiring in an hour, and one deactivated learner on it."""
    ids = make_learners(acme, 6, prefix="carry")
    order = assigned_order(acme, 6, alice)
    give_seats(acme, order, ids)
    move_expiry(acme, order, timezone.now() + timedelta(hours=1))
    with acme:
        Learner.objects.filter(pk=ids[5]).update(status="deactivated")
    return order, ids[:5], ids[5]


def turn_on(client, user):
    client.force_login(user)
    return client.post("/licences/expiring/carry-over/", {"on": "on"}, follow=True)


def notices(mailoutbox):
    return [m for m in mailoutbox if kind_of(m) == EmailKind.EXPIRY]


def current_orders(customer, ids):
    with customer:
        return dict(
            Allocation.objects.filter(learner_id__in=ids, ended_at__isnull=True).values_list("learner_id", "order_id")
        )


def test_off_by_default_and_changing_it_is_audited(client, dana, acme):
    with acme:
        assert not carry_over.is_on()
    response = turn_on(client, dana)
    assert "Carry-over is on" in str(list(response.context["messages"])[0])
    with acme:
        assert carry_over.is_on()
    response = client.post("/licences/expiring/carry-over/", {"on": "off"}, follow=True)
    with acme:
        assert not carry_over.is_on()
    events = AuditEvent.objects.filter(action=AuditEvent.Action.CARRY_OVER_CHANGED).order_by("at")
    assert [(e.actor, e.customer, e.details["on"]) for e in events] == [(dana, acme, True), (dana, acme, False)]
    response = client.post("/licences/expiring/carry-over/", {"on": "sideways"}, follow=True)
    assert "Choose whether" in str(list(response.context["messages"])[0])
    assert events.count() == 2


def test_at_the_exact_expiry_moment_every_active_learner_moves(client, alice, dana, acme, expiring, mailoutbox):
    order, ids, deactivated = expiring
    later = assigned_order(acme, 10, alice, expires_at=timezone.now() + timedelta(days=300))
    turn_on(client, dana)

    run_scheduler(order.expires_at - timedelta(seconds=1))
    assert set(current_orders(acme, ids).values()) == {order.pk} and not notices(mailoutbox)

    run_scheduler(order.expires_at)
    assert set(current_orders(acme, ids).values()) == {later.pk}
    assert current_orders(acme, [deactivated]) == {deactivated: order.pk}  # never moved
    with acme:
        history = Allocation.objects.filter(order_id=order.pk, ended_at=order.expires_at)
        assert history.count() == 5 and set(history.values_list("end_reason", flat=True)) == {"renewed"}
    later.refresh_from_db()
    assert later.allocated_count == 5
    (notice,) = notices(mailoutbox)
    assert "Carry-over at expiry is on: 5 learners moved to free licences in later orders" in notice.body
    assert "carry00000@acme.test" in notice.body and "Nobody lost access." in notice.body
    event = AuditEvent.objects.get(action=AuditEvent.Action.LICENCES_CARRIED_OVER)
    assert (event.actor, event.details["moved"], event.details["not_moved"]) == (None, 5, 0)

    # A second run (a retried notice) finds it done: the same record, nobody moved twice.
    again = carry_over.at_expiry(order, order.expires_at + timedelta(minutes=5))
    assert (again.moved_count, again.not_moved_count) == (5, 0)
    with acme:
        assert CarryOver.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LICENCES_CARRIED_OVER).count() == 1


def test_short_seats_move_learners_in_email_order_and_the_rest_are_listed(
    client, alice, dana, acme, expiring, mailoutbox
):
    order, ids, _ = expiring
    later = assigned_order(acme, 3, alice, expires_at=timezone.now() + timedelta(days=300))
    turn_on(client, dana)
    run_scheduler(order.expires_at)
    moved = current_orders(acme, ids)
    assert [moved[i] for i in ids] == [later.pk] * 3 + [order.pk] * 2  # carry00000..02 got the seats
    (notice,) = notices(mailoutbox)
    assert "3 learners moved" in notice.body
    assert "2 learners could not be moved (not enough free licences in later orders) and lost access: " in notice.body
    assert "carry00003@acme.test, carry00004@acme.test" in notice.body


def test_with_the_setting_off_nobody_moves(alice, acme, expiring, mailoutbox):
    order, ids, _ = expiring
    assigned_order(acme, 10, alice, expires_at=timezone.now() + timedelta(days=300))
    run_scheduler(order.expires_at)
    assert set(current_orders(acme, ids).values()) == {order.pk}
    (notice,) = notices(mailoutbox)
    assert "Carry-over" not in notice.body and "no longer have access" in notice.body


def test_a_learner_expired_before_it_was_turned_on_is_never_renewed_by_it(client, alice, dana, acme, mailoutbox):
    # The order expired an hour ago, its notice still waiting (an outage); then carry-over is turned on.
    ids = make_learners(acme, 2, prefix="lapsed")
    order = assigned_order(acme, 2, alice)
    give_seats(acme, order, ids)
    move_expiry(acme, order, timezone.now() - timedelta(hours=1))
    assigned_order(acme, 10, alice, expires_at=timezone.now() + timedelta(days=300))
    turn_on(client, dana)
    run_scheduler(timezone.now())
    assert set(current_orders(acme, ids).values()) == {order.pk}
    (notice,) = notices(mailoutbox)
    assert "Carry-over" not in notice.body
