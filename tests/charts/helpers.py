"""What the chart tests share: orders with chosen figures, seats in the allocation
history, and the moments around Acme's clock change (the fixture is in conftest)."""

from datetime import UTC, datetime, timedelta

from learners.models import Allocation
from licences.models import LicenceOrder
from tests.builders import make_order

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
