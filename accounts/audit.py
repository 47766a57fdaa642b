from accounts.models import AuditEvent


def record(action, *, actor, customer=None, partner=None, in_manage_mode=False, **details) -> AuditEvent:
    """Write one audit row. Called by service functions inside their transaction."""
    if partner is None and customer is not None:
        partner = customer.partner
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        customer=customer,
        partner=partner,
        in_manage_mode=in_manage_mode,
        details=details,
    )
