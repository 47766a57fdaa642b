"""One function per email. Each renders three templates,
``emails/<name>-subject.txt``, ``-body.txt`` and ``-body.html``, and sends through
Django's email API, so any django-anymail backend works. Each returns the provider's
message id where the backend reports one."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from licences.services import free_seats_after


def customer_manager_emails(customer) -> list[str]:
    return list(
        User.objects.filter(customer=customer, role=Role.CUSTOMER_MANAGER, is_active=True)
        .order_by("email")
        .values_list("email", flat=True)
    )


def partner_manager_emails(partner) -> list[str]:
    return list(
        User.objects.filter(partner=partner, role=Role.PARTNER_MANAGER, is_active=True)
        .order_by("email")
        .values_list("email", flat=True)
    )


def absolute_url(view_name, *args) -> str:
    return settings.SITE_URL + reverse(view_name, args=args)


def send(name: str, recipients: list[str], context: dict) -> str:
    """Render and send one email to ``recipients``, colleagues at one company.

    Times render in ``context["time_zone"]`` (the customer's): the ``date`` filter
    converts any aware datetime to the active time zone, whatever it was given."""
    context = {"site_url": settings.SITE_URL, **context}
    with timezone.override(context.get("time_zone") or settings.TIME_ZONE):
        subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
        text = render_to_string(f"emails/{name}-body.txt", context)
        html = render_to_string(f"emails/{name}-body.html", context)
    message = EmailMultiAlternatives(subject, text, to=recipients)
    message.attach_alternative(html, "text/html")
    message.send()
    status = getattr(message, "anymail_status", None)
    return (status.message_id or "") if status is not None else ""


def _order_context(order) -> dict:
    customer = order.customer
    return {
        "order": order,
        "customer": customer,
        "expires_at_local": order.expires_at.astimezone(customer.tzinfo) if order.expires_at else None,
        "time_zone": customer.time_zone,
    }


def licences_ready(order) -> tuple[str, int]:
    """To the customer's managers: N licences are assigned and ready for allocation."""
    recipients = customer_manager_emails(order.customer)
    if not recipients:
        return "", 0
    context = _order_context(order) | {"allocate_url": absolute_url("learners:expired")}
    return send("licences-ready", recipients, context), len(recipients)


def licence_request_waiting(order) -> tuple[str, int]:
    """To the partner's managers: a customer manager asked for licences."""
    recipients = partner_manager_emails(order.customer.partner)
    if not recipients:
        return "", 0
    context = _order_context(order) | {"orders_url": absolute_url("licences:partner_orders")}
    return send("licence-request", recipients, context), len(recipients)


def expiring_soon_url(order, now) -> str:
    """The Expiring Soon tab with the smallest window holding the order's expiry."""
    left = order.expires_at - now
    days = next((d for d in (7, 30, 60, 90) if left <= timedelta(days=d)), 90)
    return f"{absolute_url('learners:expiring')}?days={days}"


def expiry_reminder(order, *, now=None) -> tuple[str, int]:
    """To the customer's managers, each reminder of their schedule before their
    licences expire: how many learners lose access and when, and what to do: move
    them to free seats of later orders now, or request new licences."""
    now = now or timezone.now()
    losing = order.allocated_count
    free_later = free_seats_after(order, now)
    context = {
        "losing": losing,
        "free_later": free_later,
        "can_move": min(losing, free_later),
        "must_request": max(losing - free_later, 0),
        "learners_url": absolute_url("learners:list"),
        "expiring_url": expiring_soon_url(order, now),
        "request_url": absolute_url("licences:request_licences"),
    }
    return _send_expiry_email("expiry-reminder", order, context)


def expiry_notice(order, *, carried_over=None, **extra) -> tuple[str, int]:
    """To the customer's managers, on the day their licences expire. With
    ``carried_over`` (learners.models.CarryOver: carry-over at expiry ran), it says
    who was moved to later orders and who was not. (Other keywords are passed to the
    templates.)"""
    if carried_over is not None:
        extra |= {
            "carried_over": carried_over,
            "more_moved": carried_over.moved_count - len(carried_over.moved),
            "more_not_moved": carried_over.not_moved_count - len(carried_over.not_moved),
        }
    return _send_expiry_email("expiry-notice", order, extra)


def _send_expiry_email(name: str, order, extra: dict) -> tuple[str, int]:
    """The expiry emails go to the same people with the same links; only their
    templates differ."""
    recipients = customer_manager_emails(order.customer)
    if not recipients:
        return "", 0
    context = (
        _order_context(order)
        | {
            "licences_url": absolute_url("licences:overview"),
            "expired_url": absolute_url("learners:expired"),
        }
        | extra
    )
    return send(name, recipients, context), len(recipients)
