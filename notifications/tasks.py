"""Celery tasks. They take ids, never model instances, and are safe to run twice:
each email is a row of the ledger, claimed before it is sent (notifications.services)."""

from celery import shared_task

from notifications import services
from notifications.models import EmailKind


@shared_task(ignore_result=False)
def send_licences_ready_email(order_id: int) -> str | None:
    """Send the order's licences-ready email now. Redis may deliver this twice, even
    at once: the claim lets one through. A provider error leaves the row waiting to
    retry (or failed), and the beat's scan retries it with a growing delay."""
    return services.send_order_email(order_id, EmailKind.LICENCES_READY)


@shared_task(ignore_result=False)
def send_licence_request_email(order_id: int) -> str | None:
    return services.send_order_email(order_id, EmailKind.LICENCE_REQUEST)


@shared_task(ignore_result=False)
def send_seat_alert(alert_id: int) -> str | None:
    """Send a seat alert as soon as its episode opens (queued on the commit that
    opened it). Safe twice: the claim lets one through."""
    return services.send_seat_alert(alert_id)


@shared_task(ignore_result=True)
def send_due_expiry_notifications() -> dict:
    """The periodic task (Celery beat): send every email of the ledger that is due
    (reminders, expiry notices, retries of the others), each once. Safe to run twice
    or concurrently; a full batch queues the next one so a backlog drains quickly."""
    summary = services.send_due_emails()
    if summary.more_may_be_due:
        send_due_expiry_notifications.delay()
    return summary.as_dict()


@shared_task(ignore_result=True)
def send_partner_digests() -> dict:
    """The weekly digest's beat: plans and sends each partner's digest once its
    Monday 08:00 has come, once per partner per week however often this runs."""
    from notifications import digest

    return digest.send_due_digests()
