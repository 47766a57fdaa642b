"""Audit events of partners (manage mode, their security settings), one function per event."""

from accounts import audit
from accounts.models import AuditEvent


def manage_mode_entered(customer, *, actor) -> AuditEvent:
    return audit.record(AuditEvent.Action.MANAGE_MODE_ENTERED, actor=actor, customer=customer, in_manage_mode=True)


def manage_mode_left(customer, *, actor) -> AuditEvent:
    return audit.record(AuditEvent.Action.MANAGE_MODE_LEFT, actor=actor, customer=customer, in_manage_mode=True)


def two_factor_requirement_changed(partner, *, required: bool, actor) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.TWO_FACTOR_REQUIREMENT_CHANGED, actor=actor, partner=partner, details={"required": required}
    )


def time_zone_changed(partner, *, before: str, after: str, actor) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.PARTNER_TIME_ZONE_CHANGED,
        actor=actor,
        partner=partner,
        details={"before": before, "after": after},
    )
