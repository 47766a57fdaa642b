"""One function per email. Each renders three templates,
``emails/<name>-subject.txt``, ``-body.txt`` and ``-body.html``, and sends through
Django's email API, so any django-anymail backend works. Each returns the provider's
message id where the backend reports one."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from licences.models import LicenceOrder
from notifications.models import PartnerNotificationSettings


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


def send(name: str, recipients: list[str], context: dict, *, cc=(), headers=None) -> str:
    """Render and send one email to ``recipients``, colleagues at one company.

    Times render in ``context["time_zone"]`` (the customer's): the ``date`` filter
    converts any aware datetime to the active time zone, whatever it was given."""
    context = {"site_url": settings.SITE_URL, **context}
    with timezone.override(context.get("time_zone") or settings.TIME_ZONE):
        subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
        text = render_to_string(f"emails/{name}-body.txt", context)
        html = render_to_string(f"emails/{name}-body.html", context)
    message = EmailMultiAlternatives(subject, text, to=recipients, cc=list(cc), headers=headers)
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


def free_seats_after(order, now) -> int:
    """Free seats of the customer's valid orders that outlast ``order``: where the
    learners losing ``order``'s seats could move now."""
    later = LicenceOrder.objects.valid(now).filter(customer_id=order.customer_id, expires_at__gt=order.expires_at)
    return later.aggregate(free=Sum(F("quantity") - F("allocated_count")))["free"] or 0


def expiry_reminder(order, *, now=None) -> tuple[str, int]:
    """To the customer's managers, each reminder of their schedule before their
    licences expire: how many learners lose access and when, and what to do: move
    them to free seats of later orders now, or request new licences."""
    losing = order.allocated_count
    free_later = free_seats_after(order, now or timezone.now())
    context = {
        "losing": losing,
        "free_later": free_later,
        "can_move": min(losing, free_later),
        "must_request": max(losing - free_later, 0),
        "learners_url": absolute_url("learners:list"),
        "request_url": absolute_url("licences:request_licences"),
    }
    return _send_expiry_email("expiry-reminder", order, context)


def expiry_notice(order, **extra) -> tuple[str, int]:
    """To the customer's managers, on the day their licences expire, with the
    partner's managers copied when the partner asked for copies. (Keywords are
    passed to the templates: the seat engine's hooks add what they did.)"""
    return _send_expiry_email("expiry-notice", order, extra, cc=notice_copies(order.customer.partner_id))


def notice_copies(partner_id) -> list[str]:
    """The partner's managers, when the partner copies them on expiry notices."""
    if not PartnerNotificationSettings.objects.filter(partner_id=partner_id, copy_managers_on_expiry=True).exists():
        return []
    return partner_manager_emails(partner_id)


def _send_expiry_email(name: str, order, extra: dict, cc=()) -> tuple[str, int]:
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
    return send(name, recipients, context, cc=cc), len(recipients) + len(cc)
