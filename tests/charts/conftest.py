"""What the chart tests share: orders with chosen figures, seats in the allocation
history, and Acme's history around the clock change."""

from datetime import UTC, datetime, timedelta

import pytest

from learners.models import Allocation
from licences.models import LicenceOrder
from tests.builders import make_learners, make_order

# Acme is on London time: British Summer Time began at 01:00 UTC on Sunday 29 March
# 2026, so the week of Monday 23 March ends at 00:00 BST on 30 March, 23:00 UTC on the
# 29th, and has 167 hours.
NOW = datetime(2026, 4, 8, 12, 0, tzinfo=UTC)  # a Wednesday; this week began Monday 6 April
WEEK_END_AFTER_CHANGE = datetime(2026, 3, 29, 23, 0, tzinfo=UTC)


def order_of(customer, manager, quantity, *, expires_at, allocated=0, status="assigned"):
    order = make_order(customer, manager, quantity, status=status)
    if status == "assigned":
        LicenceOrder.objects.filter(pk=order.pk).update(
            expires_at=expires_at, assigned_at=expires_at - timedelta(days=365), allocated_count=allocated
        )
    order.refresh_from_db()
    return order


def seat(customer, learner_id, order, allocated_at, *, expires_at, ended_at=None):
    with customer:
        Allocation.objects.create(
            learner_id=learner_id,
            order_id=order.pk,
            allocated_at=allocated_at,
            expires_at=expires_at,
            ended_at=ended_at,
            end_reason="renewed" if ended_at else "",
        )


@pytest.fixture
def acme_history(world):
    """Five seats of Acme around the clock change, each a learner of its own."""
    acme, alice = world["acme"], world["alice"]
    later = datetime(2027, 3, 1, tzinfo=UTC)
    old = order_of(acme, alice, 10, expires_at=datetime(2026, 3, 26, 9, 0, tzinfo=UTC))
    new = order_of(acme, alice, 10, expires_at=later, allocated=1)
    a1, a2, b, c, d = make_learners(acme, 5)
    ends_after_week_end = WEEK_END_AFTER_CHANGE + timedelta(minutes=30)  # 00:30 BST on the 30th
    # A1, A2: in use at the end of the week of 23 March (renewed half an hour later).
    seat(acme, a1, old, datetime(2026, 3, 24, 10, 0, tzinfo=UTC), expires_at=later, ended_at=ends_after_week_end)
    seat(acme, a2, old, datetime(2026, 3, 25, 10, 0, tzinfo=UTC), expires_at=later, ended_at=ends_after_week_end)
    # B: starts half an hour after that week's end: the next week's.
    seat(acme, b, new, ends_after_week_end, expires_at=later)
    # C: in use from 10 March until its order expired on the 26th (never ended).
    seat(acme, c, old, datetime(2026, 3, 10, 9, 0, tzinfo=UTC), expires_at=old.expires_at)
    # D: given and taken back within one day of the week of 16 March: never at a week's end.
    seat(
        acme,
        d,
        old,
        datetime(2026, 3, 17, 9, 0, tzinfo=UTC),
        expires_at=later,
        ended_at=datetime(2026, 3, 17, 15, 0, tzinfo=UTC),
    )
    return acme
