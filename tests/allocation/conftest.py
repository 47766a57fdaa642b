"""Helpers for the allocation tests: orders made through the real services, then
moved in time with a queryset update (the services always stamp "now", and an
order assigned a year ago is the only way to have one that has expired)."""

from datetime import timedelta

from django.utils import timezone

from learners.models import Allocation, Learner
from licences.models import LicenceOrder
from licences.services import assign_order, request_order


def assigned_order(customer, quantity, partner_manager, *, expires_at=None) -> LicenceOrder:
    """An order requested and assigned through the services; with ``expires_at`` its
    timestamps are moved so that it expires then (its learners' seats move too)."""
    order = request_order(customer, quantity, acting_user=partner_manager, in_manage_mode=True)
    order = assign_order(order.pk, acting_user=partner_manager)
    if expires_at is not None:
        move_expiry(customer, order, expires_at)
    return order


def move_expiry(customer, order, expires_at) -> LicenceOrder:
    assigned_at = expires_at - timedelta(days=365)
    LicenceOrder.objects.filter(pk=order.pk).update(
        expires_at=expires_at, assigned_at=assigned_at, requested_at=assigned_at - timedelta(hours=1)
    )
    with customer:
        Allocation.objects.filter(order_id=order.pk).update(expires_at=expires_at)
    order.refresh_from_db()
    return order


def make_learners(customer, count, *, prefix="learner", domain=None) -> list[int]:
    """``count`` learners without a seat, in one statement; their ids."""
    domain = domain or f"{customer.schema_name}.test"
    with customer:
        learners = Learner.objects.bulk_create(
            [Learner(email=f"{prefix}{n:05d}@{domain}", name=f"{prefix.title()} {n}") for n in range(count)]
        )
    return [learner.pk for learner in learners]


def give_seats(customer, order, learner_ids, *, by=None):
    """Current allocations from ``order`` for these learners, counted on the order,
    written directly (the tests of the services themselves use the services)."""
    with customer:
        Allocation.objects.bulk_create(
            [
                Allocation(learner_id=i, order_id=order.pk, expires_at=order.expires_at, allocated_by=by)
                for i in learner_ids
            ]
        )
    LicenceOrder.objects.filter(pk=order.pk).update(allocated_count=len(learner_ids))
    order.refresh_from_db()


def expired_learners_of(customer, count, partner_manager, *, prefix="expired", ago=timedelta(days=1)):
    """``count`` learners whose seats (from one order) expired ``ago``."""
    ids = make_learners(customer, count, prefix=prefix)
    order = assigned_order(customer, max(count, 1), partner_manager)
    give_seats(customer, order, ids)
    move_expiry(customer, order, timezone.now() - ago)
    return ids, order
