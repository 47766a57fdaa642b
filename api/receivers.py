"""Webhook events, from the signals of the apps below (licences.signals,
learners.signals, notifications.signals). Each receiver runs inside the action's
transaction and publishes there (api.webhooks.publish): the event commits with the
action or not at all. Connected in ApiConfig.ready()."""

from django.dispatch import receiver

from api import webhooks
from api.models import WebhookEventType
from api.schemas import order_dict_of
from api.webhooks import publish
from learners.signals import learners_renewed, seats_exhausted
from licences.services import pool_summary
from licences.signals import order_assigned, order_cancelled, order_requested
from notifications.signals import licences_expired, licences_expiring, sending_finished, sending_started


def _order_event(event_type, order):
    customer = order.customer
    publish(event_type, partner_id=customer.partner_id, customer=customer, data=lambda: {"order": order_dict_of(order)})


@receiver(order_requested, dispatch_uid="api.order_requested")
def order_was_requested(sender, *, order, **kwargs):
    _order_event(WebhookEventType.ORDER_REQUESTED, order)


@receiver(order_assigned, dispatch_uid="api.order_assigned")
def order_was_assigned(sender, *, order, **kwargs):
    _order_event(WebhookEventType.ORDER_ASSIGNED, order)


@receiver(order_cancelled, dispatch_uid="api.order_cancelled")
def order_was_cancelled(sender, *, order, **kwargs):
    _order_event(WebhookEventType.ORDER_CANCELLED, order)


@receiver(licences_expiring, dispatch_uid="api.licences_expiring")
def licences_expire_soon(sender, *, order, lead_hours, **kwargs):
    customer = order.customer

    def data():
        return {"order": order_dict_of(order), "hours_before_expiry": lead_hours, "expires_at": order.expires_at}

    publish(WebhookEventType.LICENCES_EXPIRING, partner_id=customer.partner_id, customer=customer, data=data)


@receiver(licences_expired, dispatch_uid="api.licences_expired")
def licences_did_expire(sender, *, order, **kwargs):
    customer = order.customer

    def data():
        return {"order": order_dict_of(order), "expired_at": order.expires_at}

    publish(WebhookEventType.LICENCES_EXPIRED, partner_id=customer.partner_id, customer=customer, data=data)


def _customer_ref(customer) -> dict:
    return {"id": customer.pk, "name": customer.name}


@receiver(learners_renewed, dispatch_uid="api.learners_renewed")
def learners_were_renewed(sender, *, customer, outcome, selection, early=False, **kwargs):
    data = {
        "customer": _customer_ref(customer),
        "selection": selection,
        "early": early,
        "renewed": outcome.allocated,
        "not_renewed": outcome.not_allocated,
        "orders": outcome.order_counts,
    }
    publish(WebhookEventType.LEARNERS_RENEWED, partner_id=customer.partner_id, customer=customer, data=data)


@receiver(seats_exhausted, dispatch_uid="api.seats_exhausted")
def seats_ran_out(sender, *, customer, outcome, **kwargs):
    def data():
        pool = pool_summary(customer)
        return {
            "customer": _customer_ref(customer),
            "pool": {"total": pool["total"], "allocated": pool["allocated"], "free": pool["free"]},
            "waiting": outcome.not_allocated,
        }

    publish(WebhookEventType.SEATS_EXHAUSTED, partner_id=customer.partner_id, customer=customer, data=data)


@receiver(sending_started, dispatch_uid="api.sending_started")
def email_pass_started(sender, **kwargs):
    # The pass's reminders and notices publish events: read each partner's endpoints once.
    webhooks.remember_endpoints_for_a_pass()


@receiver(sending_finished, dispatch_uid="api.sending_finished")
def email_pass_finished(sender, **kwargs):
    webhooks.forget_pass_endpoints()
