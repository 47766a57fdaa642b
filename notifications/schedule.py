"""When the emails about an order fall due, and whose schedule says so.

Each reminder falls due its lead time before the order expires; the expiry notice at
``expires_at``. A customer's reminders are its own schedule if it has one, else its
partner's default, else the guide's single 72-hour reminder."""

from datetime import datetime, timedelta

from notifications.models import DEFAULT_REMINDER_LEADS, CustomerNotificationSettings, PartnerNotificationSettings

REMINDER_LEAD = timedelta(hours=DEFAULT_REMINDER_LEADS[0])


def reminder_due_at(expires_at: datetime, lead_hours: int = DEFAULT_REMINDER_LEADS[0]) -> datetime:
    return expires_at - timedelta(hours=lead_hours)


def partner_default_leads(partner) -> tuple[int, ...]:
    own = PartnerNotificationSettings.objects.filter(partner=partner).values_list("reminder_leads", flat=True).first()
    return tuple(sorted(own, reverse=True)) if own else DEFAULT_REMINDER_LEADS


def customer_override(customer) -> tuple[int, ...] | None:
    own = (
        CustomerNotificationSettings.objects.filter(customer=customer).values_list("reminder_leads", flat=True).first()
    )
    return tuple(sorted(own, reverse=True)) if own else None


def reminder_leads(customer) -> tuple[int, ...]:
    """The lead times (hours, longest first) of the reminders ``customer``'s orders get."""
    return customer_override(customer) or partner_default_leads(customer.partner_id)
