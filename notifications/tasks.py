"""Celery tasks. They take ids, never model instances, and are safe to run twice."""

import smtplib

from anymail.exceptions import AnymailAPIError
from celery import shared_task

from licences.models import LicenceOrder
from notifications import emails, services

# Worth another try later: the provider or the network failed, not the message.
TRANSIENT_EMAIL_ERRORS = (AnymailAPIError, smtplib.SMTPException, OSError)


@shared_task(autoretry_for=TRANSIENT_EMAIL_ERRORS, retry_backoff=30, retry_backoff_max=1800, max_retries=6)
def send_licences_ready_email(order_id: int) -> int:
    order = LicenceOrder.objects.select_related("customer").get(pk=order_id)
    _, sent_to = emails.licences_ready(order)
    return sent_to


@shared_task(autoretry_for=TRANSIENT_EMAIL_ERRORS, retry_backoff=30, retry_backoff_max=1800, max_retries=6)
def send_licence_request_email(order_id: int) -> int:
    order = LicenceOrder.objects.select_related("customer__partner").get(pk=order_id)
    _, sent_to = emails.licence_request_waiting(order)
    return sent_to


@shared_task(ignore_result=True)
def send_due_expiry_notifications() -> dict:
    """The periodic task (Celery beat): send the 72-hour reminders and expiry notices
    that are due, each once (see notifications.services). Safe to run twice or
    concurrently; a full batch queues the next one so a backlog drains quickly."""
    summary = services.send_due_notices()
    if summary.more_may_be_due:
        send_due_expiry_notifications.delay()
    return summary.as_dict()
