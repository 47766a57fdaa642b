"""Planning the ledger: the rows of the emails an order will get.

Rows are planned when an order is requested (the licence request, when someone other
than the partner asked), when it is assigned (licences ready now, each reminder of
the customer's schedule, the expiry notice), and re-planned when a schedule changes
or an order is moved in time (``seed_demo``). Planning never touches a row that was
sent, failed or is being sent: only pending rows move, so nothing goes out twice."""

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from licences.models import LicenceOrder, OrderStatus
from notifications.models import EmailKind, EmailState, OrderEmail
from notifications.schedule import reminder_due_at, reminder_leads

SCHEDULE_CHANGED = "Not sent: the reminder schedule changed before it was due."
EXPIRED_BEFORE_READY = "Not sent: the licences had expired before this email went out."


def plan_request_email(order, now: datetime | None = None) -> OrderEmail:
    email, _ = OrderEmail.objects.get_or_create(
        order=order, kind=EmailKind.LICENCE_REQUEST, lead_hours=0, defaults={"due_at": now or timezone.now()}
    )
    return email


def plan_assigned_order(order, now: datetime | None = None) -> OrderEmail:
    """Licences ready (due now), then the reminders and the expiry notice. Returns
    the licences-ready row (its task sends it at once)."""
    now = now or timezone.now()
    ready, _ = OrderEmail.objects.get_or_create(
        order=order, kind=EmailKind.LICENCES_READY, lead_hours=0, defaults={"due_at": now}
    )
    plan_expiry_emails(order, reminder_leads(order.customer), now, include_past=True)
    return ready


def plan_expiry_emails(order, leads, now: datetime, *, include_past: bool) -> dict:
    """Make the order's pending reminders match ``leads`` and its expiry notice match
    ``expires_at``. Reminders already dealt with (sent, failed, skipped, being sent)
    stay as they are; pending ones whose lead is gone are deleted, and a reminder
    waiting to retry is skipped. With ``include_past`` off (a schedule change) a new
    lead whose time has passed is not planned: it would be a reminder out of time.

    Returns counts: ``planned``, ``moved``, ``dropped``."""
    counts = {"planned": 0, "moved": 0, "dropped": 0}
    if order.status != OrderStatus.ASSIGNED or order.expires_at is None:
        return counts
    wanted = {hours: reminder_due_at(order.expires_at, hours) for hours in leads}
    existing = {e.lead_hours: e for e in OrderEmail.objects.filter(order=order, kind=EmailKind.REMINDER)}
    for hours, email in existing.items():
        if hours in wanted:
            if email.state == EmailState.PENDING and email.due_at != wanted[hours]:
                OrderEmail.objects.filter(pk=email.pk, state=EmailState.PENDING).update(due_at=wanted[hours])
                counts["moved"] += 1
            continue
        if email.state == EmailState.PENDING:
            counts["dropped"] += OrderEmail.objects.filter(pk=email.pk, state=EmailState.PENDING, attempts=0).delete()[
                0
            ]
        elif email.state == EmailState.RETRYING:
            counts["dropped"] += OrderEmail.objects.filter(pk=email.pk, state=EmailState.RETRYING).update(
                state=EmailState.SKIPPED, error=SCHEDULE_CHANGED
            )
    new = [
        OrderEmail(order=order, kind=EmailKind.REMINDER, lead_hours=hours, due_at=due, planned_at=now)
        for hours, due in wanted.items()
        if hours not in existing and (include_past or due > now)
    ]
    OrderEmail.objects.bulk_create(new, ignore_conflicts=True)
    counts["planned"] += len(new)
    expiry = OrderEmail.objects.filter(order=order, kind=EmailKind.EXPIRY).first()
    if expiry is None:
        OrderEmail.objects.bulk_create(
            [OrderEmail(order=order, kind=EmailKind.EXPIRY, due_at=order.expires_at, planned_at=now)],
            ignore_conflicts=True,
        )
        counts["planned"] += 1
    elif expiry.state == EmailState.PENDING and expiry.due_at != order.expires_at:
        OrderEmail.objects.filter(pk=expiry.pk, state=EmailState.PENDING).update(due_at=order.expires_at)
        counts["moved"] += 1
    return counts


def replan_moved_order(order, now: datetime) -> dict:
    """An order moved in time (``seed_demo`` backdates its orders): its pending emails
    follow its new expiry, past ones included (the scheduler catches up on them), and
    a licences-ready email not yet sent is skipped once the order has expired."""
    if order.expires_at is not None and order.expires_at <= now:
        OrderEmail.objects.filter(order=order, kind=EmailKind.LICENCES_READY, state=EmailState.PENDING).update(
            state=EmailState.SKIPPED, error=EXPIRED_BEFORE_READY
        )
    return plan_expiry_emails(order, reminder_leads(order.customer), now, include_past=True)


def live_orders(now: datetime, customer=None):
    """Assigned orders not yet expired, whose reminders a schedule governs."""
    orders = LicenceOrder.objects.filter(status=OrderStatus.ASSIGNED, expires_at__gt=now).select_related("customer")
    if customer is not None:
        orders = orders.filter(customer=customer)
    return orders.order_by("pk")


def replan_orders(orders, now: datetime, *, leads_of=reminder_leads) -> dict:
    """Re-plan the pending reminders of ``orders`` (live ones) to their customers' schedules."""
    totals = {"orders": 0, "planned": 0, "moved": 0, "dropped": 0}
    cache: dict[int, tuple[int, ...]] = {}
    for order in orders:
        if order.customer_id not in cache:
            cache[order.customer_id] = leads_of(order.customer)
        counts = plan_expiry_emails(order, cache[order.customer_id], now, include_past=False)
        totals["orders"] += 1
        for key, value in counts.items():
            totals[key] += value
    return totals


def planned_changes(orders, now: datetime) -> list[tuple]:
    """What ``replan_orders`` would do, changing nothing: (order, leads wanted, leads
    pending now, leads it would add, leads it would drop)."""
    orders = list(orders)
    rows: dict[int, dict[int, str]] = {}
    for order_id, hours, state in OrderEmail.objects.filter(
        Q(order__in=[o.pk for o in orders]), kind=EmailKind.REMINDER
    ).values_list("order_id", "lead_hours", "state"):
        rows.setdefault(order_id, {})[hours] = state
    cache: dict[int, tuple[int, ...]] = {}
    changes = []
    for order in orders:
        if order.customer_id not in cache:
            cache[order.customer_id] = reminder_leads(order.customer)
        wanted = cache[order.customer_id]
        have = rows.get(order.pk, {})
        add = [h for h in wanted if h not in have and reminder_due_at(order.expires_at, h) > now]
        drop = [h for h, s in have.items() if h not in wanted and s in (EmailState.PENDING, EmailState.RETRYING)]
        if add or drop:
            changes.append((order, wanted, sorted(have, reverse=True), add, sorted(drop, reverse=True)))
    return changes
