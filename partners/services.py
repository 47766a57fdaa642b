"""Partners' own actions: entering and leaving manage mode on one of their customers,
and requiring two-factor sign-in of their managers."""

from django.db import transaction

from accounts.models import Role, User
from customers.middleware import MANAGED_CUSTOMER_SESSION_KEY
from customers.models import Customer, validate_time_zone
from partners import events
from partners.models import Partner


def customers_of(partner):
    """The partner's active customer companies."""
    return Customer.objects.filter(partner=partner, is_active=True)


def partner_managers(partner):
    """The partner's managers, by name: who may be chosen as an order's requester,
    beside the customers' managers."""
    return User.objects.filter(partner=partner, role=Role.PARTNER_MANAGER).order_by("full_name", "email")


@transaction.atomic(durable=True)
def enter_manage_mode(session, customer, *, acting_user):
    """Put a partner manager inside one of their customers. The caller has checked
    that the customer belongs to the manager's partner."""
    session[MANAGED_CUSTOMER_SESSION_KEY] = customer.pk
    events.manage_mode_entered(customer, actor=acting_user)


@transaction.atomic(durable=True)
def exit_manage_mode(session, customer, *, acting_user):
    session.pop(MANAGED_CUSTOMER_SESSION_KEY, None)
    if customer is not None:
        events.manage_mode_left(customer, actor=acting_user)


@transaction.atomic(durable=True)
def set_two_factor_requirement(partner, required: bool, *, acting_user) -> bool:
    """Require (or stop requiring) two-factor sign-in for the partner's managers.
    From their next page on, managers without an authenticator must set one up.
    Returns whether anything changed; only a change is audited."""
    changed = (
        Partner.objects.filter(pk=partner.pk).exclude(require_two_factor=required).update(require_two_factor=required)
    )
    partner.require_two_factor = required
    if changed:
        events.two_factor_requirement_changed(partner, required=required, actor=acting_user)
    return bool(changed)


def set_time_zone(partner, time_zone: str, *, acting_user) -> bool:
    """The partner's clock: its weekly digest goes out Monday 08:00 on it, and its
    Activity and charts read its own events on it. Returns whether it changed; only
    a change is audited."""
    validate_time_zone(time_zone)
    before = partner.time_zone
    changed = Partner.objects.filter(pk=partner.pk).exclude(time_zone=time_zone).update(time_zone=time_zone)
    partner.time_zone = time_zone
    if changed:
        events.time_zone_changed(partner, before=before, after=time_zone, actor=acting_user)
    return bool(changed)
