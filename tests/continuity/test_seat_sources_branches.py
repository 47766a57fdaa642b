"""``reads.seat_sources`` has two branches: a query, and a pick from the valid orders
the customer guard read a moment ago (Expiring Soon's ``request.valid_orders``). The
pick saves a query; it must choose exactly what the query chooses, in its order."""

from datetime import timedelta

import pytest
from django.utils import timezone

from learners import reads
from licences.models import LicenceOrder
from licences.services import valid_orders_and_expired
from tests.builders import assigned_order, expired_learners_of, give_seats, make_learners


@pytest.fixture
def orders(alice, acme):
    now = timezone.now()
    expired_learners_of(acme, 2, alice, prefix="gone")  # expired: never a source
    full = assigned_order(acme, 2, alice, expires_at=now + timedelta(days=300))
    give_seats(acme, full, make_learners(acme, 2, prefix="full"))  # valid, no free seat
    late = assigned_order(acme, 5, alice, expires_at=now + timedelta(days=300))  # same expiry as full: by pk
    early = assigned_order(acme, 5, alice, expires_at=now + timedelta(days=20))
    latest = assigned_order(acme, 5, alice, expires_at=now + timedelta(days=360))
    return {"full": full, "late": late, "early": early, "latest": latest}


@pytest.mark.parametrize(
    "choice",
    [
        {},
        {"order": "late"},
        {"order": "full"},
        {"order": "early"},
        {"expiring_after": 30},
        {"expiring_after": 300},
        {"order": "early", "expiring_after": 30},
    ],
)
def test_the_pick_from_the_guards_orders_chooses_what_the_query_chooses(acme, orders, choice):
    now = timezone.now()
    order_id = orders[choice["order"]].pk if "order" in choice else None
    after = now + timedelta(days=choice["expiring_after"]) if "expiring_after" in choice else None
    valid, _ = valid_orders_and_expired(acme, now)
    assert LicenceOrder.objects.filter(customer=acme).count() == 5 and len(valid) == 4

    queried = reads.seat_sources(acme, now, order_id, after)
    picked = reads.seat_sources(acme, now, order_id, after, valid=valid)

    assert [order.pk for order in picked] == [order.pk for order in queried]


def test_the_sources_go_latest_expiry_first_then_newest(acme, orders):
    now = timezone.now()
    valid, _ = valid_orders_and_expired(acme, now)
    expected = [orders["latest"].pk, orders["late"].pk, orders["early"].pk]
    assert [order.pk for order in reads.seat_sources(acme, now)] == expected
    assert [order.pk for order in reads.seat_sources(acme, now, valid=valid)] == expected
