"""What notifications does when licence orders change (licences.signals): plan the
order's emails in the ledger, in the order's transaction, and send the one-off ones
once it commits; and review a customer's seat alerts when its seats change
(learners.signals) or an order is assigned. Connected in NotificationsConfig.ready()."""

from django.dispatch import receiver

from learners.signals import seats_changed
from licences.signals import order_assigned, order_requested
from notifications import planning, seat_alerts, signals, tasks


@receiver(order_requested, dispatch_uid="notifications.order_requested")
def tell_partner_of_request(sender, *, order, acting_user, **kwargs):
    # Someone other than the partner asked (a customer manager, or an operator on
    # their behalf): the partner's managers are the ones who must act.
    if not acting_user.is_partner_manager:
        planning.plan_request_email(order)
        tasks.send_licence_request_email.delay_on_commit(order.pk)


@receiver(order_assigned, dispatch_uid="notifications.order_assigned")
def plan_order_emails(sender, *, order, acting_user, **kwargs):
    planning.plan_assigned_order(order)
    tasks.send_licences_ready_email.delay_on_commit(order.pk)
    # Seats are free again: an exhaustion episode ends (the next one alerts anew).
    seat_alerts.review_pool(order.customer)


@receiver(seats_changed, dispatch_uid="notifications.seats_changed")
def review_seat_alerts(sender, *, customer, now, **kwargs):
    # Under the customer's pool lock, in the seat engine's transaction.
    seat_alerts.review_pool(customer, now)


@receiver(signals.seat_alert_planned, dispatch_uid="notifications.seat_alert_planned")
def queue_seat_alert(sender, *, alert_id, **kwargs):
    tasks.send_seat_alert.delay_on_commit(alert_id)
