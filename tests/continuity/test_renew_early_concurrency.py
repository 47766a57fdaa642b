"""Rules 2 and 3 under concurrency: Renew Early racing allocations for the last free
seats of a later order (threads, each with its own connection, real PostgreSQL):
seats never exceed an order's quantity, every order's count matches its current
allocations, and nobody holds two."""

import itertools
import threading
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from learners import seats
from learners.models import Allocation
from licences.models import LicenceOrder
from tests.builders import assigned_order, expiring_learners_of, make_learners, race


@pytest.mark.django_db(transaction=True)
def test_renew_early_and_allocations_race_for_the_last_seats(tenant_transactional_db, alice, acme, dana):
    expiring, soon = expiring_learners_of(acme, 8, alice)
    later = assigned_order(acme, 5, alice, expires_at=timezone.now() + timedelta(days=400))
    newcomers = make_learners(acme, 6, prefix="newcomer")
    turns, lock, outcomes = itertools.count(), threading.Lock(), []

    def body():
        with lock:
            turn = next(turns)
        if turn == 0:
            outcomes.append(("early", seats.renew_early(acme, acting_user=dana, select_all=True, days=30)))
        else:
            outcomes.append(("new", seats.allocate(acme, [newcomers[turn - 1]], acting_user=dana)))

    race(7, timezone.now(), body)

    for order in (soon, later):
        order.refresh_from_db()
        with acme:
            current = Allocation.objects.filter(order_id=order.pk, ended_at__isnull=True).count()
        assert order.allocated_count == current <= order.quantity
    assert later.allocated_count == 5  # every seat of the later order was taken, by one side or the other
    with acme:
        assert (
            not Allocation.objects.filter(ended_at__isnull=True)
            .values("learner")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
        )
        early = Allocation.objects.filter(end_reason="renewed_early").count()
    (renewed,) = [o for kind, o in outcomes if kind == "early"]
    assert renewed.allocated == early == sum(renewed.by_order.values())
    assert soon.allocated_count == 8 - early + sum(o.by_order.get(soon.pk, 0) for kind, o in outcomes if kind == "new")
    assert LicenceOrder.objects.filter(pk=later.pk, allocated_count__lte=5).exists()
