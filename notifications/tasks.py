"""Celery tasks. They take ids, never model instances, and are safe to run twice."""

from celery import shared_task

from licences.models import LicenceOrder
from notifications import emails, services

EMAIL_MAX_RETRIES = 6


def _send_or_retry(task, send, order):
    """Send; on a transient provider error, try again later with a growing delay
    (30 s, 1 min, 2 min ... at most 30 min); a permanent one fails the task at once."""
    try:
        _, sent_to = send(order)
    except Exception as error:
        if not services.is_transient(error):
            raise
        raise task.retry(exc=error, countdown=min(30 * 2**task.request.retries, 1800)) from error
    return sent_to


@shared_task(bind=True, max_retries=EMAIL_MAX_RETRIES)
def send_licences_ready_email(self, order_id: int) -> int:
    order = LicenceOrder.objects.select_related("customer").get(pk=order_id)
    return _send_or_retry(self, emails.licences_ready, order)


@shared_task(bind=True, max_retries=EMAIL_MAX_RETRIES)
def send_licence_request_email(self, order_id: int) -> int:
    order = LicenceOrder.objects.select_related("customer__partner").get(pk=order_id)
    return _send_or_retry(self, emails.licence_request_waiting, order)


@shared_task(ignore_result=True)
def send_due_expiry_notifications() -> dict:
    """The periodic task (Celery beat): send the 72-hour reminders and expiry notices
    that are due, each once (see notifications.services). Safe to run twice or
    concurrently; a full batch queues the next one so a backlog drains quickly."""
    summary = services.send_due_notices()
    if summary.more_may_be_due:
        send_due_expiry_notifications.delay()
    return summary.as_dict()
