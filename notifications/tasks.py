"""Celery tasks. They take ids, never model instances, and are safe to run twice."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from licences.models import LicenceOrder
from notifications import emails, services

EMAIL_MAX_RETRIES = 6


def _send_once(task, order_id: int, sent_at_field: str, send) -> int:
    """Send one of the order's one-off emails unless it has gone out already.

    Redis delivers a task again when its worker died before acknowledging it, and
    two deliveries may even run at once: the order's row lock makes the second wait,
    then find the email sent. The time is recorded in the transaction of the send,
    so a failed send records nothing. A transient provider error is tried again
    later, outside that transaction, with a growing delay (30 s, 1 min, 2 min ... at
    most 30 min); a permanent one fails the task at once."""
    try:
        with transaction.atomic():
            order = (
                LicenceOrder.objects.select_for_update(of=("self",))
                .select_related("customer__partner")
                .get(pk=order_id)
            )
            if getattr(order, sent_at_field) is not None:
                return 0
            _, sent_to = send(order)
            LicenceOrder.objects.filter(pk=order_id).update(**{sent_at_field: timezone.now()})
    except Exception as error:
        if not services.is_transient(error):
            raise
        raise task.retry(exc=error, countdown=min(30 * 2**task.request.retries, 1800)) from error
    return sent_to


@shared_task(bind=True, max_retries=EMAIL_MAX_RETRIES)
def send_licences_ready_email(self, order_id: int) -> int:
    return _send_once(self, order_id, "ready_email_sent_at", emails.licences_ready)


@shared_task(bind=True, max_retries=EMAIL_MAX_RETRIES)
def send_licence_request_email(self, order_id: int) -> int:
    return _send_once(self, order_id, "request_email_sent_at", emails.licence_request_waiting)


@shared_task(ignore_result=True)
def send_due_expiry_notifications() -> dict:
    """The periodic task (Celery beat): send the 72-hour reminders and expiry notices
    that are due, each once (see notifications.services). Safe to run twice or
    concurrently; a full batch queues the next one so a backlog drains quickly."""
    summary = services.send_due_notices()
    if summary.more_may_be_due:
        send_due_expiry_notifications.delay()
    return summary.as_dict()
