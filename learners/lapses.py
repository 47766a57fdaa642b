# Raw SQL here interpolates only table names taken from the models; every value is a
# query parameter.
# ruff: noqa: S608
"""Recording lapses: which learners' seats have expired, kept in the customer's
``Lapse`` table so that the Expired Licences list reads the few expired learners of a
customer whose learners are mostly valid, instead of walking every learner in email
order to find them (learners.reads.expired_list).

- ``record`` rewrites a customer's lapses under its pool lock: the learners whose
  current seat has expired, no one else. ``Customer.lapses_recorded_at`` says when;
  every order that expired by then has its learners recorded, since seats come only
  from valid orders and an assigned order's expiry never changes.
- Beat runs ``record_due`` as often as the expiry scan: the customers with an order that expired
  since their last recording, found in one query on the public schema. Until it
  has, the list reads the allocations themselves (``reads.lapses_recorded``), so it
  is never wrong, only slower for that minute.
- A renewal of expired learners never writes here (it would cost every renewal of
  100,000 learners a write per learner); the renewed learners' rows stay until the
  recording that follows it, queued when the renewal commits, and a read checks the
  current seat anyway."""

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from customers.models import Customer
from learners import seats
from learners.models import Allocation, Lapse, Learner
from licences.models import LicenceOrder, OrderStatus

ALLOCATION = Allocation._meta.db_table
LAPSE = Lapse._meta.db_table
LEARNER = Learner._meta.db_table


def record(customer, now=None) -> int:
    """Rewrite ``customer``'s lapses as of now: the rows of learners no longer expired
    go, the newly expired come. Returns how many learners are recorded."""
    with customer, transaction.atomic(durable=True):
        seats.lock_pool(customer)  # no seat changes while the table is rewritten
        now = now or timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                DELETE FROM {LAPSE} x WHERE NOT EXISTS (
                    SELECT 1 FROM {ALLOCATION} c
                    WHERE c.learner_id = x.learner_id AND c.ended_at IS NULL AND c.expires_at <= %s
                )
                """,
                [now],
            )
            cursor.execute(
                f"""
                INSERT INTO {LAPSE} (learner_id, email, name_folded)
                SELECT c.learner_id, l.email, l.name_folded
                FROM {ALLOCATION} c JOIN {LEARNER} l ON l.id = c.learner_id
                WHERE c.ended_at IS NULL AND c.expires_at <= %s
                ON CONFLICT (learner_id) DO NOTHING
                """,
                [now],
            )
            cursor.execute(f"SELECT count(*) FROM {LAPSE}")
            (recorded,) = cursor.fetchone()
            # The list's plan depends on how many there are (a few among many valid
            # learners, or most of them): the planner learns it now, not at the next
            # autovacuum. A sample of the table; milliseconds.
            cursor.execute(f"ANALYZE {LAPSE}")
        type(customer).objects.filter(pk=customer.pk).update(lapses_recorded_at=now)
        customer.lapses_recorded_at = now
    return recorded


def due(now=None):
    """The active customers with an order that expired since their last recording."""
    now = now or timezone.now()
    expired = LicenceOrder.objects.filter(customer=OuterRef("pk"), status=OrderStatus.ASSIGNED, expires_at__lte=now)
    never_recorded = Q(Exists(expired), lapses_recorded_at__isnull=True)
    expired_since = Q(Exists(expired.filter(expires_at__gt=OuterRef("lapses_recorded_at"))))
    return Customer.objects.filter(never_recorded | expired_since, is_active=True).order_by("pk")


def record_due(now=None) -> int:
    """Beat, as often as the expiry scan: record the lapses of every customer an order of which has
    expired since. Returns how many customers were recorded."""
    done = 0
    for customer in due(now).iterator():
        record(customer)
        done += 1
    return done
