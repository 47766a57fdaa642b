from django.db import transaction

from accounts import audit
from accounts.models import AuditEvent
from customers.middleware import MANAGED_CUSTOMER_SESSION_KEY


def customers_of(partner):
    from customers.models import Customer

    return Customer.objects.filter(partner=partner, is_active=True)


@transaction.atomic
def enter_manage_mode(session, customer, *, acting_user):
    """Put a partner manager inside one of their customers. The caller has checked
    that the customer belongs to the manager's partner."""
    session[MANAGED_CUSTOMER_SESSION_KEY] = customer.pk
    audit.record(AuditEvent.Action.MANAGE_MODE_ENTERED, actor=acting_user, customer=customer, in_manage_mode=True)


@transaction.atomic
def exit_manage_mode(session, customer, *, acting_user):
    session.pop(MANAGED_CUSTOMER_SESSION_KEY, None)
    if customer is not None:
        audit.record(AuditEvent.Action.MANAGE_MODE_LEFT, actor=acting_user, customer=customer, in_manage_mode=True)


@transaction.atomic
def set_two_factor_requirement(partner, required: bool, *, acting_user) -> bool:
    """Require (or stop requiring) two-factor sign-in for the partner's managers.
    From their next page on, managers without an authenticator must set one up.
    Returns whether anything changed; only a change is audited."""
    from accounts import signin_events
    from partners.models import Partner

    changed = (
        Partner.objects.filter(pk=partner.pk).exclude(require_two_factor=required).update(require_two_factor=required)
    )
    partner.require_two_factor = required
    if changed:
        signin_events.two_factor_requirement_changed(partner=partner, required=required, acting_user=acting_user)
    return bool(changed)
