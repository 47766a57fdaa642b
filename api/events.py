"""Audit events of the partner API, one function per event: tokens, webhook
endpoints, redeliveries, and customers created through the API."""

from accounts import audit
from accounts.models import AuditEvent


def customer_created(customer, *, actor, token) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.CUSTOMER_CREATED,
        actor=actor,
        customer=customer,
        details={"name": customer.name, "schema": customer.schema_name, "via_token": token.prefix},
    )


def api_token_created(token, *, actor) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.API_TOKEN_CREATED,
        actor=actor,
        partner=token.partner,
        details={
            "token": token.prefix,
            "name": token.name,
            "scope": token.scope,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
    )


def api_token_revoked(token, *, actor) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.API_TOKEN_REVOKED,
        actor=actor,
        partner=token.partner,
        details={"token": token.prefix, "name": token.name},
    )


def _endpoint_details(endpoint) -> dict:
    return {"endpoint_id": endpoint.pk, "url": endpoint.url, "events": list(endpoint.event_types)}


def webhook_endpoint_added(endpoint, *, actor) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.WEBHOOK_ENDPOINT_ADDED,
        actor=actor,
        partner=endpoint.partner,
        details=_endpoint_details(endpoint),
    )


def webhook_endpoint_changed(endpoint, *, actor, changed: list[str]) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.WEBHOOK_ENDPOINT_CHANGED,
        actor=actor,
        partner=endpoint.partner,
        details={**_endpoint_details(endpoint), "changed": changed},
    )


def webhook_endpoint_removed(endpoint, *, actor) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.WEBHOOK_ENDPOINT_REMOVED,
        actor=actor,
        partner=endpoint.partner,
        details=_endpoint_details(endpoint),
    )


def webhook_endpoint_disabled(endpoint, *, actor, reason: str) -> AuditEvent:
    """Disabled by a manager, or (``actor`` None) by the platform after days of failures."""
    return audit.record(
        AuditEvent.Action.WEBHOOK_ENDPOINT_DISABLED,
        actor=actor,
        partner=endpoint.partner,
        details={**_endpoint_details(endpoint), "reason": reason},
    )


def webhook_endpoint_enabled(endpoint, *, actor) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.WEBHOOK_ENDPOINT_ENABLED,
        actor=actor,
        partner=endpoint.partner,
        details=_endpoint_details(endpoint),
    )


def webhook_redelivered(delivery, *, actor) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.WEBHOOK_REDELIVERED,
        actor=actor,
        partner=delivery.endpoint.partner,
        details={
            "endpoint_id": delivery.endpoint_id,
            "message": delivery.message.uid,
            "event": delivery.message.event_type,
        },
    )
