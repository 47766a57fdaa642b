"""Audit events of manage mode, one function per event."""

from accounts import audit
from accounts.models import AuditEvent


def manage_mode_entered(customer, *, actor) -> AuditEvent:
    return audit.record(AuditEvent.Action.MANAGE_MODE_ENTERED, actor=actor, customer=customer, in_manage_mode=True)


def manage_mode_left(customer, *, actor) -> AuditEvent:
    return audit.record(AuditEvent.Action.MANAGE_MODE_LEFT, actor=actor, customer=customer, in_manage_mode=True)
