"""Give every order its rows in the email ledger, from what the old mechanisms knew:

- the one-off emails: sent where the order carries a stamp (``*_email_sent_at``);
  where it does not, pending (due now) only if the email is still true and its task
  may still be on its way (the order changed in the last day); older ones may have
  gone out before the stamps existed, so they are recorded as skipped, never sent;
- the 72-hour reminder and the expiry notice: copied from ``ExpiryNotice`` with their
  state, attempts, message id and error (a retry or a claim keeps its time from the
  order's ``next_notice_at``); pending where the order still expects them.

Nothing already sent is planned again. Runs in batches of orders, so a large table
is never held in memory."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

BATCH = 2000
REMINDER_LEAD = timedelta(hours=72)
RECENT = timedelta(days=1)
UNKNOWN = "Not sent: planned before the ledger, with no record of whether it went out."


def plan(apps, schema_editor):
    LicenceOrder = apps.get_model("licences", "LicenceOrder")
    ExpiryNotice = apps.get_model("notifications", "ExpiryNotice")
    OrderEmail = apps.get_model("notifications", "OrderEmail")
    User = apps.get_model("accounts", "User")
    partner_managers = set(User.objects.filter(role="partner_manager").values_list("pk", flat=True))

    last = 0
    while True:
        orders = list(LicenceOrder.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not orders:
            break
        last = orders[-1].pk
        notices = {(n.order_id, n.kind): n for n in ExpiryNotice.objects.filter(order_id__in=[o.pk for o in orders])}
        rows = []
        for order in orders:
            rows += _rows_of(order, notices, partner_managers, OrderEmail)
        OrderEmail.objects.bulk_create(rows, ignore_conflicts=True)


def _rows_of(order, notices, partner_managers, OrderEmail):
    rows = []
    live = order.status == "assigned" and order.expires_at is not None
    recent = timezone.now() - RECENT

    def row(kind, due_at, lead_hours=0, **fields):
        rows.append(OrderEmail(order_id=order.pk, kind=kind, lead_hours=lead_hours, due_at=due_at, **fields))

    if order.request_email_sent_at is not None:
        row("licence_request", order.request_email_sent_at, state="sent", sent_at=order.request_email_sent_at, attempts=1)
    elif order.status == "requested" and order.requested_by_id not in partner_managers:
        if order.requested_at >= recent:
            row("licence_request", order.requested_at)
        else:
            row("licence_request", order.requested_at, state="skipped", error=UNKNOWN)
    if order.ready_email_sent_at is not None:
        row("licences_ready", order.ready_email_sent_at, state="sent", sent_at=order.ready_email_sent_at, attempts=1)
    elif live:
        if order.assigned_at >= recent and order.expires_at > timezone.now():
            row("licences_ready", order.assigned_at)
        else:
            row("licences_ready", order.assigned_at, state="skipped", error=UNKNOWN)

    if not live:
        return rows
    for old_kind, kind, lead, due in (
        ("reminder_72h", "reminder", 72, order.expires_at - REMINDER_LEAD),
        ("expiry", "expiry", 0, order.expires_at),
    ):
        notice = notices.get((order.pk, old_kind))
        if notice is None:
            if order.next_notice_at is not None:
                row(kind, due, lead)
            continue
        if notice.state in ("retrying", "claimed"):
            due = order.next_notice_at or notice.claimed_at
        row(
            kind,
            due,
            lead,
            state=notice.state,
            claimed_at=notice.claimed_at,
            attempts=notice.attempts,
            sent_at=notice.sent_at,
            recipient_count=notice.recipient_count,
            message_id=notice.message_id,
            error=notice.error,
        )
    return rows


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_order_email_ledger"),
        ("accounts", "0003_two_factor_and_sign_in_events"),
    ]

    operations = [migrations.RunPython(plan, migrations.RunPython.noop)]
