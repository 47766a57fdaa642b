# Raw SQL here interpolates only table names taken from the models; every value is a
# query parameter.
# ruff: noqa: S608
"""The daily record of seats in use (licences.models.SeatSnapshot) behind the Licences
overview's weekly chart.

Today's row of every customer comes from the public orders (the seats of its valid
orders, ``allocated_count``, which the seat engine keeps in the same transaction as
the allocations): one statement for all customers, no tenant schema visited. Beat
runs it every hour, so the last run of a customer's day stands for that day's end.
Days before the record began are filled once from the allocation history by
``learners.seat_history`` (the ``record_seat_history`` command), which hands its
figures to ``store_days``."""

from datetime import date, datetime

from django.db import connection
from django.utils import timezone

from customers.models import Customer
from licences.models import LicenceOrder, OrderStatus, SeatSnapshot

SNAPSHOT = SeatSnapshot._meta.db_table
ORDER = LicenceOrder._meta.db_table
CUSTOMER = Customer._meta.db_table

UPSERT = """
    ON CONFLICT (customer_id, day) DO UPDATE
    SET seats_in_use = EXCLUDED.seats_in_use, recorded_at = EXCLUDED.recorded_at
"""


def record_today(now: datetime | None = None) -> int:
    """Today's seats in use of every active customer, each on its own calendar.
    Returns how many customers' rows were written."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {SNAPSHOT} (customer_id, day, seats_in_use, recorded_at)
            SELECT c.id, (%(now)s AT TIME ZONE c.time_zone)::date,
                   COALESCE(SUM(o.allocated_count), 0), %(now)s
            FROM {CUSTOMER} c
            LEFT JOIN {ORDER} o ON o.customer_id = c.id AND o.status = %(assigned)s AND o.expires_at > %(now)s
            WHERE c.is_active
            GROUP BY c.id
            {UPSERT}
            """,
            {"now": now, "assigned": OrderStatus.ASSIGNED},
        )
        return cursor.rowcount


def store_days(customer, figures: list[tuple[date, int]], *, now: datetime | None = None) -> int:
    """Write past days' figures of ``customer`` (from its allocation history), in one
    statement; a day already recorded takes the new figure."""
    if not figures:
        return 0
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {SNAPSHOT} (customer_id, day, seats_in_use, recorded_at)
            SELECT %s, day, seats, %s FROM unnest(%s::date[], %s::int[]) AS f(day, seats)
            {UPSERT}
            """,
            [customer.pk, now, [day for day, _ in figures], [seats for _, seats in figures]],
        )
        return cursor.rowcount
