"""Audit events of licence orders, one function per event."""

from accounts import audit
from accounts.models import AuditEvent


def order_requested(order, *, actor, in_manage_mode: bool) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.ORDER_REQUESTED,
        actor=actor,
        customer=order.customer,
        in_manage_mode=in_manage_mode,
        details={"order_id": order.pk, "quantity": order.quantity},
    )


def order_assigned(order, *, actor, in_manage_mode: bool) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.ORDER_ASSIGNED,
        actor=actor,
        customer=order.customer,
        in_manage_mode=in_manage_mode,
        details={"order_id": order.pk, "quantity": order.quantity, "expires_at": order.expires_at.isoformat()},
    )


def order_cancelled(order, *, actor, in_manage_mode: bool) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.ORDER_CANCELLED,
        actor=actor,
        customer=order.customer,
        in_manage_mode=in_manage_mode,
        details={"order_id": order.pk, "quantity": order.quantity},
    )
