"""Celery tasks of the webhooks. They take ids and are safe to run twice: a delivery
is claimed before it is sent (api.delivery)."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from api import delivery
from api.models import IdempotentRequest

IDEMPOTENCY_KEYS_KEPT = timedelta(hours=24)


@shared_task(ignore_result=True)
def deliver_webhook(delivery_id: int) -> str | None:
    return delivery.attempt(delivery_id)


@shared_task(ignore_result=True)
def send_due_webhooks() -> int:
    """The periodic sweep (Celery beat): queue every delivery due now, retries and
    deliveries whose queued task was lost or whose worker died."""
    due = delivery.take_due()
    for delivery_id in due:
        deliver_webhook.delay(delivery_id)
    if len(due) >= delivery.SWEEP_BATCH:
        send_due_webhooks.delay()
    return len(due)


@shared_task(ignore_result=True)
def forget_old_idempotency_keys() -> int:
    """Idempotency-Key responses are kept for a day."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_KEYS_KEPT).delete()
    return deleted
