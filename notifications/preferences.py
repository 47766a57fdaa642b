"""Partners' notification settings: the default reminder schedule of their customers
and a customer's own override. Each change re-plans the pending reminders of the live
orders it governs (never one already sent) and is audited."""

from django.db import transaction
from django.utils import timezone

from notifications import events, planning
from notifications.models import CustomerNotificationSettings, PartnerNotificationSettings
from notifications.schedule import customer_override, partner_default_leads


def _normal(leads) -> tuple[int, ...]:
    return tuple(sorted(set(leads), reverse=True))


@transaction.atomic(durable=True)
def set_partner_schedule(partner, leads, *, acting_user) -> dict | None:
    """Set the partner's default reminders (hours before expiry). Re-plans the live
    orders of its customers that follow the default. Returns the re-plan's counts,
    or None when nothing changed (nothing is audited then)."""
    leads = _normal(leads)
    before = partner_default_leads(partner)
    if leads == before:
        return None
    PartnerNotificationSettings.objects.update_or_create(
        partner=partner, defaults={"reminder_leads": list(leads), "updated_at": timezone.now()}
    )
    now = timezone.now()
    orders = planning.live_orders(now).filter(customer__partner=partner, customer__notification_settings__isnull=True)
    replanned = planning.replan_orders(orders, now, leads_of=lambda customer: leads)
    events.reminder_schedule_changed(
        actor=acting_user, partner=partner, before=before, after=leads, replanned=replanned
    )
    return replanned


@transaction.atomic(durable=True)
def set_customer_schedule(customer, leads, *, acting_user) -> dict | None:
    """Give ``customer`` its own reminders, or with ``leads`` None let it follow its
    partner's default again. Re-plans its live orders; None when nothing changed."""
    before = customer_override(customer)
    leads = _normal(leads) if leads is not None else None
    if leads == before:
        return None
    if leads is None:
        CustomerNotificationSettings.objects.filter(customer=customer).delete()
        effective = partner_default_leads(customer.partner_id)
    else:
        CustomerNotificationSettings.objects.update_or_create(
            customer=customer, defaults={"reminder_leads": list(leads), "updated_at": timezone.now()}
        )
        effective = leads
    now = timezone.now()
    replanned = planning.replan_orders(planning.live_orders(now, customer), now, leads_of=lambda c: effective)
    events.reminder_schedule_changed(
        actor=acting_user, partner=customer.partner, customer=customer, before=before, after=leads, replanned=replanned
    )
    return replanned
