"""Audit events of notifications, one function per event."""

from accounts import audit
from accounts.models import AuditEvent


def reminder_schedule_changed(*, actor, partner, customer=None, before, after, replanned: dict) -> AuditEvent:
    """A partner's default schedule (``customer`` None) or one customer's override
    changed; ``after`` None: the customer follows the partner's default again."""
    return audit.record(
        AuditEvent.Action.REMINDER_SCHEDULE_CHANGED,
        actor=actor,
        partner=partner,
        customer=customer,
        details={
            "scope": "customer" if customer is not None else "partner",
            "before_hours": list(before) if before is not None else None,
            "after_hours": list(after) if after is not None else None,
            "replanned": replanned,
        },
    )


def notice_copies_changed(*, actor, partner, copy: bool) -> AuditEvent:
    """The partner's managers are now (or no longer) copied on expiry notices."""
    return audit.record(
        AuditEvent.Action.NOTICE_COPIES_CHANGED, actor=actor, partner=partner, details={"copy_managers": copy}
    )


def digest_subscription_changed(*, user, subscribed: bool, via: str) -> AuditEvent:
    """A partner manager turned their weekly digest on or off (``via``: "settings"
    or "email_link")."""
    return audit.record(
        AuditEvent.Action.DIGEST_SUBSCRIPTION_CHANGED,
        actor=user,
        partner=user.partner,
        details={"subscribed": subscribed, "via": via},
    )


def seat_alerts_changed(*, actor, customer, before: bool, after: bool) -> AuditEvent:
    """The customer's optional 90 % seat alert was turned on or off."""
    return audit.record(
        AuditEvent.Action.SEAT_ALERTS_CHANGED,
        actor=actor,
        partner=customer.partner,
        customer=customer,
        details={"alert_at_90_percent": {"before": before, "after": after}},
    )
