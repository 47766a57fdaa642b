"""Rules 2 and 3 hold in the database itself, not only in the services' locking:
a second current allocation for a learner, or more seats than an order has, is
refused by PostgreSQL."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from learners.models import Allocation, Learner
from licences.models import LicenceOrder
from tests.builders import assigned_order


def test_a_learner_cannot_hold_two_current_allocations(alice, acme):
    order = assigned_order(acme, 5, alice)
    with acme:
        learner = Learner.objects.create(email="one@acme.test")
        Allocation.objects.create(learner=learner, order_id=order.pk, expires_at=order.expires_at)
        with pytest.raises(IntegrityError), transaction.atomic():
            Allocation.objects.create(learner=learner, order_id=order.pk, expires_at=order.expires_at)


def test_ended_allocations_do_not_count_as_current(alice, acme):
    order = assigned_order(acme, 5, alice)
    with acme:
        learner = Learner.objects.create(email="two@acme.test")
        Allocation.objects.create(
            learner=learner, order_id=order.pk, expires_at=order.expires_at, ended_at=timezone.now()
        )
        Allocation.objects.create(learner=learner, order_id=order.pk, expires_at=order.expires_at)
        assert Allocation.objects.filter(learner=learner).count() == 2


def test_an_order_cannot_count_more_seats_than_it_has(alice, acme):
    order = assigned_order(acme, 5, alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        LicenceOrder.objects.filter(pk=order.pk).update(allocated_count=6)
