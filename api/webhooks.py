"""Webhooks: the partner's endpoints (added, changed, removed, disabled, enabled on the
API page, each audited), the events published to them, and redelivery by hand.

An event is published inside the transaction of the action it tells of (the
receivers in api.receivers run inside it): its message and one delivery per endpoint
that asked for it commit with the action or not at all, and the deliveries are
queued once it commits. If the queue loses them, the sweep (api.tasks) finds them
anyway: every delivery not yet settled carries the time it is due. So an event is
delivered at least once, always with the same ``webhook-id``."""

import base64
import secrets
from contextvars import ContextVar
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from pydantic_core import to_jsonable_python

from api import events
from api.addresses import RefusedUrl, check_url
from api.delivery import QUEUE_LEASE
from api.error_codes import ApiError, ApiErrorCode
from api.models import DeliveryState, WebhookDelivery, WebhookEndpoint, WebhookEventType, WebhookMessage
from api.tokens import acts_for

SECRET_BYTES = 32


def new_secret() -> str:
    """An endpoint's signing secret, in the Standard Webhooks form: whsec_ + base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_message_uid() -> str:
    return f"msg_{secrets.token_hex(12)}"


def retry_window() -> timedelta:
    return timedelta(hours=settings.WEBHOOK_RETRY_HOURS)


def _check_manager(partner, acting_user):
    if not acts_for(acting_user, partner):
        raise PermissionDenied("Only the partner's own managers manage its webhooks.")


def clean_url(url: str) -> str:
    """The URL, trimmed, if webhooks may go there (checked after DNS resolution)."""
    url = (url or "").strip()
    try:
        check_url(url)
    except RefusedUrl as refused:
        raise ApiError(str(refused), code=ApiErrorCode.WEBHOOK_URL_REFUSED, field="url") from refused
    return url


def clean_event_types(event_types) -> list[str]:
    chosen = sorted(set(event_types or ()))
    if not chosen or any(event_type not in WebhookEventType.values for event_type in chosen):
        raise ApiError("Pick at least one of the events.", code=ApiErrorCode.NO_WEBHOOK_EVENTS, field="event_types")
    return chosen


def add_endpoint(partner, *, url: str, event_types, description: str = "", acting_user) -> WebhookEndpoint:
    """A new endpoint of ``partner`` for ``event_types``, with a new secret."""
    _check_manager(partner, acting_user)
    url, event_types = clean_url(url), clean_event_types(event_types)  # DNS, outside the transaction
    with transaction.atomic(durable=True):
        endpoint = WebhookEndpoint.objects.create(
            partner=partner,
            url=url,
            event_types=event_types,
            description=(description or "").strip()[:200],
            secret=new_secret(),
            created_by=acting_user,
        )
        events.webhook_endpoint_added(endpoint, actor=acting_user)
    return endpoint


def partner_endpoint(partner, endpoint_id, *, for_update=False) -> WebhookEndpoint:
    """One of ``partner``'s endpoints; WebhookEndpoint.DoesNotExist for any other."""
    endpoints = WebhookEndpoint.objects.select_related("partner")
    if for_update:
        endpoints = endpoints.select_for_update(of=("self",))
    return endpoints.get(pk=endpoint_id, partner=partner)


def change_endpoint(partner, endpoint_id, *, url: str, event_types, description: str = "", acting_user):
    _check_manager(partner, acting_user)
    url, event_types = clean_url(url), clean_event_types(event_types)
    with transaction.atomic(durable=True):
        endpoint = partner_endpoint(partner, endpoint_id, for_update=True)
        new = {"url": url, "event_types": event_types, "description": (description or "").strip()[:200]}
        changed = [name for name, value in new.items() if getattr(endpoint, name) != value]
        if changed:
            for name in changed:
                setattr(endpoint, name, new[name])
            endpoint.save(update_fields=changed)
            events.webhook_endpoint_changed(endpoint, actor=acting_user, changed=changed)
    return endpoint


@transaction.atomic(durable=True)
def remove_endpoint(partner, endpoint_id, *, acting_user) -> None:
    """Remove an endpoint with its deliveries: nothing more is sent to it."""
    _check_manager(partner, acting_user)
    endpoint = partner_endpoint(partner, endpoint_id, for_update=True)
    events.webhook_endpoint_removed(endpoint, actor=acting_user)
    endpoint.delete()


@transaction.atomic(durable=True)
def disable_endpoint(partner, endpoint_id, *, acting_user, reason="Disabled by a manager.") -> WebhookEndpoint:
    _check_manager(partner, acting_user)
    endpoint = partner_endpoint(partner, endpoint_id, for_update=True)
    if endpoint.is_active:
        endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = False, timezone.now(), reason
        endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
        events.webhook_endpoint_disabled(endpoint, actor=acting_user, reason=reason)
    return endpoint


@transaction.atomic(durable=True)
def enable_endpoint(partner, endpoint_id, *, acting_user) -> WebhookEndpoint:
    """Turn a disabled endpoint back on, with a clean record: the five days of
    failures start again from its next failure."""
    _check_manager(partner, acting_user)
    endpoint = partner_endpoint(partner, endpoint_id, for_update=True)
    if not endpoint.is_active:
        endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = True, None, ""
        endpoint.failing_since = None
        endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "failing_since"])
        events.webhook_endpoint_enabled(endpoint, actor=acting_user)
    return endpoint


# --- Publishing events -----------------------------------------------------------------


# While the email sender's pass runs (notifications.signals.sending_started), each
# partner's endpoints for an event type are read once for the whole pass.
_pass_endpoints: ContextVar[dict | None] = ContextVar("pass_endpoints", default=None)


def remember_endpoints_for_a_pass() -> None:
    _pass_endpoints.set({})


def forget_pass_endpoints() -> None:
    _pass_endpoints.set(None)


def _endpoints_for(partner_id: int, event_type: str) -> list[int]:
    cache = _pass_endpoints.get()
    if cache is not None and (partner_id, event_type) in cache:
        return cache[(partner_id, event_type)]
    endpoint_ids = list(
        WebhookEndpoint.objects.filter(
            partner_id=partner_id, is_active=True, event_types__contains=[event_type]
        ).values_list("pk", flat=True)
    )
    if cache is not None:
        cache[(partner_id, event_type)] = endpoint_ids
    return endpoint_ids


def publish(event_type: str, *, partner_id: int, data, customer=None, now=None) -> WebhookMessage | None:
    """Publish one event to the partner's active endpoints that asked for it, inside
    the caller's transaction; the deliveries are queued when it commits. ``data`` is
    the event's data, or a function making it (called only if an endpoint wants
    the event). One query when none does, three (and ``data``'s) when some do."""
    endpoint_ids = _endpoints_for(partner_id, event_type)
    if not endpoint_ids:
        return None
    now = now or timezone.now()
    data = to_jsonable_python(data() if callable(data) else data)  # as the API's responses write it
    message = WebhookMessage.objects.create(
        uid=new_message_uid(),
        partner_id=partner_id,
        customer=customer,
        event_type=event_type,
        payload={"type": event_type, "timestamp": now.isoformat(), "data": data},
        created_at=now,
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            message=message,
            endpoint_id=endpoint_id,
            next_attempt_at=now + QUEUE_LEASE,
            retry_until=now + retry_window(),
            created_at=now,
        )
        for endpoint_id in endpoint_ids
    )
    _queue_on_commit([delivery.pk for delivery in deliveries])
    return message


def _queue_on_commit(delivery_ids):
    from api import tasks  # tasks import the delivery code, which imports this module

    for delivery_id in delivery_ids:
        tasks.deliver_webhook.delay_on_commit(delivery_id)


@transaction.atomic(durable=True)
def redeliver(partner, delivery_id, *, acting_user, now=None) -> WebhookDelivery:
    """Send a delivery again now (Redeliver on the API page), with the same
    ``webhook-id``, retried like a new one if it fails. Raises
    WebhookDelivery.DoesNotExist for another partner's delivery."""
    _check_manager(partner, acting_user)
    now = now or timezone.now()
    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("endpoint__partner", "message")
        .get(pk=delivery_id, endpoint__partner=partner)
    )
    if not delivery.endpoint.is_active:
        raise ApiError("Enable the endpoint before redelivering to it.", code=ApiErrorCode.ENDPOINT_DISABLED)
    if delivery.state in (DeliveryState.PENDING, DeliveryState.SENDING):
        raise ApiError("This delivery is on its way already.", code="delivery_in_progress")
    delivery.state = DeliveryState.PENDING
    delivery.next_attempt_at = now + QUEUE_LEASE
    delivery.retry_until = now + retry_window()
    delivery.redelivered_by_hand = True
    delivery.failure_reason = ""
    delivery.save(update_fields=["state", "next_attempt_at", "retry_until", "redelivered_by_hand", "failure_reason"])
    events.webhook_redelivered(delivery, actor=acting_user)
    _queue_on_commit([delivery.pk])
    return delivery


def partner_deliveries(endpoint):
    """An endpoint's deliveries for its page, newest first, with their messages."""
    return WebhookDelivery.objects.filter(endpoint=endpoint).select_related("message").order_by("-created_at", "-id")
