"""Two clicks, two tabs or two managers at the same moment give one assignment: the
order's row lock makes the second wait for the first, then find it assigned.

These tests commit for real (each thread has its own database connection), so they
use tenant_transactional_db."""

import threading

from django.db import connection
from django.test import Client

from accounts.models import AuditEvent
from licences.models import LicenceOrder, OrderStatus
from licences.services import OrderStateError, assign_order, cancel_order
from licences.signals import order_assigned
from tests.builders import order_for


def ready_emails(outbox) -> int:
    return sum("ready for allocation" in email.subject for email in outbox)


def run_together(*actions):
    """Start every action at the same moment, each in its own thread (and connection);
    their results or exceptions, in order."""
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait()
            results[index] = action()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_managers_assign_at_once_through_the_page(tenant_transactional_db, world, mailoutbox):
    order = order_for(world["acme"], world["dana"], 5)
    clients = []
    for manager in (world["alice"], world["bob"]):
        client = Client()
        client.force_login(manager)
        clients.append(client)

    responses = run_together(
        *[lambda c=c: c.post("/partner/licences/orders/assign/", {"order": order.pk}, follow=True) for c in clients]
    )

    pages = [r.content.decode() for r in responses]
    assert sum(f"Order #{order.pk} assigned:" in page for page in pages) == 1
    assert sum(f"Order #{order.pk} is already assigned." in page for page in pages) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.ASSIGNED
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ORDER_ASSIGNED).count() == 1
    assert ready_emails(mailoutbox) == 1


def test_many_assigns_at_once_give_one(tenant_transactional_db, world, mailoutbox):
    order = order_for(world["acme"], world["dana"], 5)
    managers = [world["alice"], world["bob"]] * 3
    results = run_together(*[lambda m=m: assign_order(order.pk, acting_user=m) for m in managers])

    assert sum(isinstance(r, LicenceOrder) for r in results) == 1
    assert sum(isinstance(r, OrderStateError) for r in results) == len(managers) - 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ORDER_ASSIGNED).count() == 1
    assert ready_emails(mailoutbox) == 1


def test_second_assign_waits_for_the_first_then_finds_it_assigned(tenant_transactional_db, world):
    """Deterministic overlap: the first assignment holds its transaction open while the
    second starts; the second must wait on the row lock, not read the stale state."""
    order = order_for(world["acme"], world["dana"], 5)
    first_has_lock, release_first = threading.Event(), threading.Event()
    outcome = {}

    def hold_the_first_open(sender, *, acting_user, **kwargs):
        # Sent inside the assignment's own (durable) transaction, with the row lock held.
        if acting_user == world["alice"]:
            first_has_lock.set()
            release_first.wait(timeout=10)

    order_assigned.connect(hold_the_first_open, dispatch_uid="hold-the-first-open")

    def first():
        try:
            assign_order(order.pk, acting_user=world["alice"])
        finally:
            connection.close()

    def second():
        first_has_lock.wait(timeout=10)
        try:
            assign_order(order.pk, acting_user=world["bob"])
            outcome["second"] = "assigned"
        except OrderStateError as error:
            outcome["second"] = str(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    try:
        for thread in threads:
            thread.start()
        first_has_lock.wait(timeout=10)
        threads[1].join(timeout=0.5)
        assert threads[1].is_alive(), "the second assignment should be waiting for the first's lock"
    finally:
        release_first.set()
        for thread in threads:
            thread.join(timeout=10)
        order_assigned.disconnect(dispatch_uid="hold-the-first-open")

    assert outcome["second"] == f"Order #{order.pk} is already assigned."
    order.refresh_from_db()
    assert order.assigned_by == world["alice"]


def test_assign_and_cancel_at_once_give_one_of_them(tenant_transactional_db, world):
    order = order_for(world["acme"], world["dana"], 5)
    results = run_together(
        lambda: assign_order(order.pk, acting_user=world["alice"]),
        lambda: cancel_order(order.pk, acting_user=world["bob"]),
    )
    assert sum(isinstance(r, LicenceOrder) for r in results) == 1
    order.refresh_from_db()
    assert order.status in (OrderStatus.ASSIGNED, OrderStatus.CANCELLED)
    assert (order.assigned_at is None) != (order.cancelled_at is None)
