"""What notifications does when licence orders change (licences.signals): schedule
the expiry emails and send the one-off ones, after the order's transaction commits.
Connected in NotificationsConfig.ready()."""

from django.dispatch import receiver

from licences.models import LicenceOrder
from licences.signals import order_assigned, order_requested
from notifications import tasks
from notifications.schedule import reminder_due_at


@receiver(order_requested, dispatch_uid="notifications.order_requested")
def tell_partner_of_request(sender, *, order, acting_user, **kwargs):
    # Someone other than the partner asked (a customer manager, or an operator on
    # their behalf): the partner's managers are the ones who must act.
    if not acting_user.is_partner_manager:
        tasks.send_licence_request_email.delay_on_commit(order.pk)


@receiver(order_assigned, dispatch_uid="notifications.order_assigned")
def schedule_expiry_emails(sender, *, order, acting_user, **kwargs):
    order.next_notice_at = reminder_due_at(order.expires_at)
    LicenceOrder.objects.filter(pk=order.pk).update(next_notice_at=order.next_notice_at)
    tasks.send_licences_ready_email.delay_on_commit(order.pk)
