"""A renewal keeps the learner's history: the expired seat becomes an ended row with
its order, time and manager, and the learner's current row carries the new seat.
The current row is renewed in place with a HOT update, which writes no index entry:
this is what makes a 100,000-learner renewal fit its time budget (benchmarks/renewal.py),
and it stops being true if an index is put on a column a renewal changes."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from learners import reads, seats
from learners.models import Allocation
from tests.builders import assigned_order, expired_learners_of, give_seats, make_learners, move_expiry


def allocation_updates():
    """(row updates, of which HOT) on the allocations table in this transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
            "WHERE schemaname = current_schema() AND relname = %s",
            [Allocation._meta.db_table],
        )
        return cursor.fetchone() or (0, 0)


def test_renewal_keeps_the_expired_seat_as_history(alice, bob, dana, acme):
    (learner_id,), old = expired_learners_of(acme, 1, alice, prefix="kept")
    with acme:
        before = Allocation.objects.get(learner_id=learner_id)
        Allocation.objects.filter(pk=before.pk).update(allocated_by=alice)
        before.refresh_from_db()
    new = assigned_order(acme, 5, alice)
    now = timezone.now()

    outcome = seats.renew_expired(acme, acting_user=dana, learner_ids=[learner_id], now=now)

    assert outcome.allocated == 1
    with acme:
        current = Allocation.objects.get(learner_id=learner_id, ended_at__isnull=True)
        history = Allocation.objects.get(learner_id=learner_id, ended_at__isnull=False)
    assert (current.order_id, current.expires_at, current.allocated_at, current.allocated_by_id) == (
        new.pk,
        new.expires_at,
        now,
        dana.pk,
    )
    assert (history.order_id, history.expires_at, history.allocated_at, history.allocated_by_id) == (
        old.pk,
        before.expires_at,
        before.allocated_at,
        alice.pk,
    )
    assert (history.ended_at, history.end_reason) == (now, Allocation.EndReason.RENEWED)
    assert current.is_valid(now) and not history.is_valid(now)


def test_each_renewal_adds_one_history_row(alice, dana, acme):
    (learner_id,), first = expired_learners_of(acme, 1, alice, prefix="twice")
    second = assigned_order(acme, 1, alice)
    seats.renew_expired(acme, acting_user=dana, learner_ids=[learner_id])
    move_expiry(acme, second, timezone.now() - timedelta(hours=1))
    third = assigned_order(acme, 1, alice)

    seats.renew_expired(acme, acting_user=dana, learner_ids=[learner_id])

    with acme:
        rows = list(Allocation.objects.filter(learner_id=learner_id).order_by("allocated_at", "ended_at"))
        assert not reads.expired_learners().filter(pk=learner_id).exists()
    assert [(row.order_id, row.ended_at is None) for row in rows] == [
        (first.pk, False),
        (second.pk, False),
        (third.pk, True),
    ]


def test_renewals_update_the_current_rows_without_writing_index_entries(alice, dana, acme):
    # Seats written already expired: an earlier update of these rows in this same
    # transaction would have used the room on their page.
    old = assigned_order(acme, 40, alice, expires_at=timezone.now() - timedelta(days=1))
    give_seats(acme, old, make_learners(acme, 40, prefix="hot"))
    assigned_order(acme, 40, alice)
    with acme:
        updates_before, hot_before = allocation_updates()

    outcome = seats.renew_expired(acme, acting_user=dana, select_all=True, search="hot")

    with acme:
        updates, hot = allocation_updates()
    assert outcome.allocated == 40
    assert updates - updates_before == 40
    assert hot - hot_before == 40
