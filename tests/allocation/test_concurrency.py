"""Rule 2 and 3 under concurrency: many simultaneous requests for the last few seats
give exactly as many allocations as there are seats, and nobody gets two."""

import threading

import pytest
from django.db import connection

from learners import reads, roster, seats
from learners.models import Allocation
from licences.models import LicenceOrder
from tests.builders import assigned_order, expired_learners_of, give_seats, make_learners


def run_at_once(target, arguments):
    """Start one thread per argument, released together by a barrier; each thread
    has its own database connection, closed when it ends."""
    barrier = threading.Barrier(len(arguments))
    errors = []

    def worker(argument):
        try:
            barrier.wait(timeout=10)
            target(argument)
        except Exception as error:  # reported below, with the thread's argument
            errors.append((argument, error))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(a,)) for a in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_new_learners_racing_for_the_last_seats_get_exactly_that_many(tenant_transactional_db, alice, acme, dana):
    order = assigned_order(acme, 10, alice)
    give_seats(acme, order, make_learners(acme, 7, prefix="holder"))  # 3 seats left

    errors = run_at_once(lambda n: roster.add_learner(acme, f"racer{n}@acme.test", acting_user=dana), list(range(12)))

    assert errors == []
    order.refresh_from_db()
    assert order.allocated_count == 10
    with acme:
        current = Allocation.objects.filter(order_id=order.pk, ended_at__isnull=True)
        assert current.count() == 10
        assert current.filter(learner__email__startswith="racer").count() == 3


@pytest.mark.django_db(transaction=True)
def test_simultaneous_select_all_renewals_never_exceed_the_seats(tenant_transactional_db, alice, acme, dana):
    expired_learners_of(acme, 30, alice)
    new = assigned_order(acme, 8, alice)

    outcomes = []
    errors = run_at_once(
        lambda _: outcomes.append(seats.renew_expired(acme, acting_user=dana, select_all=True)), list(range(6))
    )

    assert errors == []
    assert sum(o.allocated for o in outcomes) == 8
    new.refresh_from_db()
    assert new.allocated_count == 8
    with acme:
        # Nobody holds two current allocations, and exactly 8 were renewed.
        assert Allocation.objects.filter(order_id=new.pk, ended_at__isnull=True).count() == 8
        assert Allocation.objects.filter(end_reason=Allocation.EndReason.RENEWED).count() == 8
        assert reads.expired_learners().count() == 22


@pytest.mark.django_db(transaction=True)
def test_the_same_learners_renewed_twice_at_once_get_one_seat_each(tenant_transactional_db, alice, acme, dana):
    ids, _ = expired_learners_of(acme, 5, alice)
    new = assigned_order(acme, 50, alice)

    errors = run_at_once(lambda _: seats.renew_expired(acme, acting_user=dana, learner_ids=ids), list(range(5)))

    assert errors == []
    new.refresh_from_db()
    assert new.allocated_count == 5
    with acme:
        assert Allocation.objects.filter(ended_at__isnull=True, expires_at__gt=new.assigned_at).count() == 5


def test_the_database_refuses_more_seats_than_the_quantity(alice, acme):
    """The check constraint backs the conditional update up."""
    from django.db import IntegrityError, transaction

    order = assigned_order(acme, 2, alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        LicenceOrder.objects.filter(pk=order.pk).update(allocated_count=3)
