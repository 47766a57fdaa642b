# Raw SQL here interpolates only table names taken from the models; every value is a
# query parameter.
# ruff: noqa: S608
"""Seats in use on each past day, counted from a customer's allocation history, for
the daily record behind the Licences overview's weekly chart (licences.seat_use).

A seat is in use from ``allocated_at`` until it ends: renewed or released
(``ended_at``) or expired (``expires_at``), whichever comes first. A day's figure is
the seats in use at its end, at midnight on the customer's clock (DST-aware: a week
with a clock change has 167 or 169 hours). One statement reads the allocations once,
as +1 on the day a seat started and -1 on the day it ended, and sums them day by day,
so a year costs one pass over the table whatever the number of days. It runs once per
customer (``record_seat_history``, seed_demo), never for a page."""

from datetime import date, datetime, timedelta

from django.db import connection
from django.utils import timezone

from learners.models import Allocation
from licences import seat_use

ALLOCATION = Allocation._meta.db_table
DAYS = 371  # 53 weeks: the chart's year and the week it starts in


def seats_in_use_by_day(customer, first: date, last: date) -> list[tuple[date, int]]:
    """(day, seats in use at its end) for every day from ``first`` to ``last`` on the
    customer's calendar."""
    with customer, connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH events AS (
                SELECT (allocated_at AT TIME ZONE %(tz)s)::date AS day, 1 AS delta FROM {ALLOCATION}
                UNION ALL
                SELECT (LEAST(ended_at, expires_at) AT TIME ZONE %(tz)s)::date, -1 FROM {ALLOCATION}
            ),
            per_day AS (
                SELECT GREATEST(day, %(first)s::date) AS day, SUM(delta) AS delta
                FROM events WHERE day <= %(last)s::date GROUP BY 1
            )
            SELECT d::date, (SUM(COALESCE(p.delta, 0)) OVER (ORDER BY d))::int
            FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
            LEFT JOIN per_day p ON p.day = d::date
            ORDER BY d
            """,
            {"tz": customer.time_zone, "first": first, "last": last},
        )
        return list(cursor.fetchall())


def record_past_days(customer, *, days: int = DAYS, now: datetime | None = None) -> int:
    """Fill the customer's daily record for the ``days`` days before today from its
    allocation history (today's row is the hourly recorder's). Returns the days
    written."""
    now = now or timezone.now()
    today = now.astimezone(customer.tzinfo).date()
    figures = seats_in_use_by_day(customer, today - timedelta(days=days), today - timedelta(days=1))
    return seat_use.store_days(customer, figures, now=now)
