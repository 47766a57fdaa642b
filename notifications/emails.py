"""One function per email. Each renders three templates,
``emails/<name>-subject.txt``, ``-body.txt`` and ``-body.html``, and sends through
Django's email API, so any django-anymail backend works. Each returns the provider's
message id where the backend reports one."""

from contextlib import suppress

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection as db
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from licences.services import free_seats_after, smallest_window
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


def _copying(partner_ids) -> set[int]:
    """Which of these partners copy their managers on expiry notices."""
    return set(
        PartnerNotificationSettings.objects.filter(partner__in=partner_ids, copy_managers_on_expiry=True).values_list(
            "partner_id", flat=True
        )
    )


class Outbox:
    """What one pass of the sender shares across its emails: one connection to the
    email backend (opened once, each email still its own ``send_messages`` call, so
    each has its own outcome), the managers of each company (looked up once per
    pass, for a whole batch at a time), for reminders the free seats of later orders
    (one query per batch), and which partners copy their managers on expiry notices
    (one query per batch). Without ``prepare`` each lookup is made as asked.

    A pass lasts seconds: a manager added meanwhile gets the next pass's emails."""

    def __init__(self):
        self.connection = None
        self.customer_managers: dict[int, list[str]] = {}
        self.partner_managers: dict[int, list[str]] = {}
        self.free_later: dict[int, int] = {}
        self.copying: dict[int, bool] = {}

    def __enter__(self):
        self.connection = get_connection()
        self.connection.open()
        return self

    def __exit__(self, *exc):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def prepare(self, orders, customer_ids=(), *, reminders=(), notices=(), now=None) -> None:
        """Look up, in one query each, the managers of these orders' companies (and
        of ``customer_ids``) not yet known to this pass, the free seats after each of
        the ``reminders`` orders, and whether the partners of the ``notices`` orders
        copy their managers on expiry notices."""
        customers = {o.customer_id for o in orders} | set(customer_ids)
        partners = {o.customer.partner_id for o in orders}
        customers -= self.customer_managers.keys()
        ask_copies = {o.customer.partner_id for o in notices} - self.copying.keys()
        partners -= self.partner_managers.keys()
        if ask_copies:
            copying = _copying(ask_copies)
            self.copying.update({partner_id: partner_id in copying for partner_id in ask_copies})
        if customers or partners:
            for customer_id in customers:
                self.customer_managers[customer_id] = []
            for partner_id in partners:
                self.partner_managers[partner_id] = []
            people = User.objects.filter(
                Q(customer__in=customers, role=Role.CUSTOMER_MANAGER)
                | Q(partner__in=partners, role=Role.PARTNER_MANAGER),
                is_active=True,
            ).order_by("email")
            for role, customer_id, partner_id, email in people.values_list(
                "role", "customer_id", "partner_id", "email"
            ):
                if role == Role.CUSTOMER_MANAGER and customer_id in customers:
                    self.customer_managers[customer_id].append(email)
                elif role == Role.PARTNER_MANAGER and partner_id in partners:
                    self.partner_managers[partner_id].append(email)
        if reminders:
            self.free_later.update(free_seats_after_each(reminders, now or timezone.now()))

    def managers_of_customer(self, customer) -> list[str]:
        if customer.pk not in self.customer_managers:
            return customer_manager_emails(customer)
        return self.customer_managers[customer.pk]

    def managers_of_partner(self, partner_id) -> list[str]:
        if partner_id not in self.partner_managers:
            return partner_manager_emails(partner_id)
        return self.partner_managers[partner_id]

    def copies_managers(self, partner_id) -> bool:
        if partner_id not in self.copying:
            return partner_id in _copying([partner_id])
        return self.copying[partner_id]

    def free_seats_after(self, order, now) -> int:
        if order.pk not in self.free_later:
            return free_seats_after(order, now)
        return self.free_later[order.pk]


def send(name: str, recipients: list[str], context: dict, connection=None, *, cc=(), headers=None) -> str:
    """Render and send one email to ``recipients``, colleagues at one company.

    Times render in ``context["time_zone"]`` (the customer's): the ``date`` filter
    converts any aware datetime to the active time zone, whatever it was given."""
    context = {"site_url": settings.SITE_URL, **context}
    with timezone.override(context.get("time_zone") or settings.TIME_ZONE):
        subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
        text = render_to_string(f"emails/{name}-body.txt", context)
        html = render_to_string(f"emails/{name}-body.html", context)
    message = EmailMultiAlternatives(subject, text, to=recipients, cc=list(cc), headers=headers, connection=connection)
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception:
        if connection is not None:
            # The pass's connection may be broken (an SMTP server hung up): close it,
            # so the next email opens a fresh one instead of failing the same way.
            with suppress(Exception):
                connection.close()
        raise
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


def licences_ready(order, outbox: Outbox | None = None) -> tuple[str, int]:
    """To the customer's managers: N licences are assigned and ready for allocation."""
    outbox = outbox or Outbox()
    recipients = outbox.managers_of_customer(order.customer)
    if not recipients:
        return "", 0
    context = _order_context(order) | {"allocate_url": absolute_url("learners:expired")}
    return send("licences-ready", recipients, context, outbox.connection), len(recipients)


def licence_request_waiting(order, outbox: Outbox | None = None) -> tuple[str, int]:
    """To the partner's managers: a customer manager asked for licences."""
    outbox = outbox or Outbox()
    recipients = outbox.managers_of_partner(order.customer.partner_id)
    if not recipients:
        return "", 0
    context = _order_context(order) | {"orders_url": absolute_url("licences:partner_orders")}
    return send("licence-request", recipients, context, outbox.connection), len(recipients)


def expiring_soon_url(order, now) -> str:
    """The Expiring Soon tab with the smallest window holding the order's expiry."""
    days = smallest_window(order.expires_at, now)
    return f"{absolute_url('learners:expiring')}?days={days}"


_FREE_AFTER_EACH_SQL = """
SELECT o.id, COALESCE(SUM(l.quantity - l.allocated_count), 0)
FROM licences_licenceorder o
LEFT JOIN licences_licenceorder l
  ON l.customer_id = o.customer_id AND l.status = 'assigned' AND l.expires_at > %(now)s
 AND l.expires_at > o.expires_at
WHERE o.id = ANY(%(ids)s)
GROUP BY o.id
"""


def free_seats_after_each(orders, now) -> dict[int, int]:
    """``free_seats_after`` of each of ``orders``, in one query."""
    with db.cursor() as cursor:
        cursor.execute(_FREE_AFTER_EACH_SQL, {"now": now, "ids": [o.pk for o in orders]})
        return {order_id: int(free) for order_id, free in cursor.fetchall()}


def expiry_reminder(order, *, now=None, outbox: Outbox | None = None) -> tuple[str, int]:
    """To the customer's managers, each reminder of their schedule before their
    licences expire: how many learners lose access and when, and what to do: move
    them to free seats of later orders now, or request new licences."""
    now = now or timezone.now()
    outbox = outbox or Outbox()
    losing = order.allocated_count
    free_later = outbox.free_seats_after(order, now)
    context = {
        "losing": losing,
        "free_later": free_later,
        "can_move": min(losing, free_later),
        "must_request": max(losing - free_later, 0),
        "learners_url": absolute_url("learners:list"),
        "expiring_url": expiring_soon_url(order, now),
        "request_url": absolute_url("licences:request_licences"),
    }
    return _send_expiry_email("expiry-reminder", order, context, outbox)


def expiry_notice(order, outbox: Outbox | None = None, *, carried_over=None, **extra) -> tuple[str, int]:
    """To the customer's managers, on the day their licences expire, with the
    partner's managers copied when the partner asked for copies. With
    ``carried_over`` (learners.models.CarryOver: carry-over at expiry ran), it says
    who was moved to later orders and who was not. (Other keywords are passed to the
    templates.)"""
    if carried_over is not None:
        extra |= {
            "carried_over": carried_over,
            "more_moved": carried_over.moved_count - len(carried_over.moved),
            "more_not_moved": carried_over.not_moved_count - len(carried_over.not_moved),
        }
    outbox = outbox or Outbox()
    return _send_expiry_email(
        "expiry-notice", order, extra, outbox, cc=notice_copies(order.customer.partner_id, outbox)
    )


def notice_copies(partner_id, outbox: Outbox | None = None) -> list[str]:
    """The partner's managers, when the partner copies them on expiry notices."""
    outbox = outbox or Outbox()
    return outbox.managers_of_partner(partner_id) if outbox.copies_managers(partner_id) else []


def _send_expiry_email(name: str, order, extra: dict, outbox: Outbox, cc=()) -> tuple[str, int]:
    """The expiry emails go to the same people with the same links; only their
    templates differ."""
    recipients = outbox.managers_of_customer(order.customer)
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
    return send(name, recipients, context, outbox.connection, cc=cc), len(recipients) + len(cc)


def seat_alert(alert, *, waiting: int, outbox: Outbox | None = None) -> tuple[str, int]:
    """To the customer's managers: no free licence while ``waiting`` new learners
    wait (or, the optional alert, 90 % of the licences in use), with a link to
    Request Licences."""
    from notifications.models import SeatAlertKind

    outbox = outbox or Outbox()
    customer = alert.customer
    recipients = outbox.managers_of_customer(customer)
    if not recipients:
        return "", 0
    used, total = alert.seats_used, alert.seats_total
    context = {
        "customer": customer,
        "time_zone": customer.time_zone,
        "waiting": waiting,
        "seats_used": used,
        "seats_total": total,
        "seats_free": max(total - used, 0),
        "percent": used * 100 // total if total else 100,
        "request_url": absolute_url("licences:request_licences"),
    }
    name = "seats-exhausted" if alert.kind == SeatAlertKind.EXHAUSTED else "seats-nearly-full"
    return send(name, recipients, context, outbox.connection), len(recipients)
