"""Celery tasks of the licences app."""

from celery import shared_task

from licences import seat_use


@shared_task(ignore_result=True)
def record_seats_in_use() -> int:
    """Beat, every hour: today's seats in use of every customer (one statement)."""
    return seat_use.record_today()
