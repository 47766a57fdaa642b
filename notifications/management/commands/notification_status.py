"""The email ledger, for operators."""

from django.core.management.base import BaseCommand
from django.db.models import Count
from django.utils import timezone

from notifications import services
from notifications.models import EmailKind, EmailState, SeatAlertKind, lead_label


class Command(BaseCommand):
    help = "Show the email ledger (every kind, seat alerts too), newest first, filtered by customer, kind and state."

    def add_arguments(self, parser):
        parser.add_argument("--customer", help="Customer name (part of it), schema name or id.")
        parser.add_argument("--kind", choices=EmailKind.values + SeatAlertKind.values)
        parser.add_argument("--state", choices=EmailState.values)
        parser.add_argument("--limit", type=int, default=50, help="Rows to show (default 50, at most 1000).")

    def handle(self, *args, customer=None, kind=None, state=None, limit=50, **options):
        limit = min(max(limit, 1), 1000)
        if kind in SeatAlertKind.values:
            self._seat_alerts(customer, kind, state, limit)
            return
        rows_wanted = services.ledger(customer=customer, kind=kind, state=state)
        counts = rows_wanted.order_by().values("kind", "state").annotate(n=Count("pk"))
        summary = ", ".join(f"{row['kind']}/{row['state']} {row['n']}" for row in sorted(counts, key=str))
        self.stdout.write(f"Emails: {summary or 'none'}")
        due = services.due_emails(timezone.now(), 10**9).count()
        self.stdout.write(f"Emails due now: {due}")
        rows = list(rows_wanted[:limit])
        if rows:
            self._email_rows(rows)
        if kind is None:
            self._seat_alerts(customer, None, state, limit)

    def _email_rows(self, rows):
        self.stdout.write(
            f"{'id':>7}  {'order':>7}  {'customer':<24} {'kind':<15} {'lead':<9} {'state':<9} {'tries':>5}  "
            f"{'due (UTC)':<16}  {'sent (UTC)':<16}  {'to':>3}  message id / error"
        )
        for email in rows:
            sent = f"{email.sent_at:%Y-%m-%d %H:%M}" if email.sent_at else "-"
            lead = lead_label(email.lead_hours) if email.kind == EmailKind.REMINDER else "-"
            detail = email.error.splitlines()[0] if email.error else email.message_id
            self.stdout.write(
                f"{email.pk:>7}  {email.order_id:>7}  {email.order.customer.name[:24]:<24} {email.kind:<15} "
                f"{lead:<9} {email.state:<9} {email.attempts:>5}  {email.due_at:%Y-%m-%d %H:%M}  {sent:<16}  "
                f"{email.recipient_count:>3}  {detail}"
            )

    def _seat_alerts(self, customer, kind, state, limit):
        rows_wanted = services.seat_alert_ledger(customer=customer, kind=kind, state=state)
        counts = rows_wanted.order_by().values("kind", "state").annotate(n=Count("pk"))
        summary = ", ".join(f"{row['kind']}/{row['state']} {row['n']}" for row in sorted(counts, key=str))
        self.stdout.write(f"Seat alerts: {summary or 'none'}")
        self.stdout.write(f"Seat alerts due now: {len(services.due_alert_ids(timezone.now(), 10**6))}")
        rows = list(rows_wanted[:limit])
        if rows:
            self._alert_rows(rows)

    def _alert_rows(self, rows):
        self.stdout.write(
            f"{'id':>7}  {'customer':<24} {'kind':<15} {'episode':<23} {'wait':>4} {'state':<9} {'tries':>5}  "
            f"{'sent (UTC)':<16}  {'to':>3}  message id / error"
        )
        for alert in rows:
            sent = f"{alert.sent_at:%Y-%m-%d %H:%M}" if alert.sent_at else "-"
            ended = f"{alert.ended_at:%m-%d %H:%M}" if alert.ended_at else "open"
            episode = f"{alert.started_at:%m-%d %H:%M} → {ended}"
            detail = alert.error.splitlines()[0] if alert.error else alert.message_id
            self.stdout.write(
                f"{alert.pk:>7}  {alert.customer.name[:24]:<24} {alert.kind:<15} {episode:<23} {alert.waiting:>4} "
                f"{alert.state:<9} {alert.attempts:>5}  {sent:<16}  {alert.recipient_count:>3}  {detail}"
            )
