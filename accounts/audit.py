"""The one writer of the audit log. Nothing calls it but the ``events.py`` module of
each domain (partners, licences, learners), which has one function per event with
named arguments, so every event's shape is written down in one place."""

from accounts.models import AuditEvent


def record(action: str, *, actor, customer=None, partner=None, in_manage_mode=False, details=None) -> AuditEvent:
    """Write one audit row, inside the caller's transaction."""
    if partner is None and customer is not None:
        partner = customer.partner
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        customer=customer,
        partner=partner,
        in_manage_mode=in_manage_mode,
        details=details or {},
    )
