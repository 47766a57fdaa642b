"""The email ledger, for operators."""

from django.core.management.base import BaseCommand
from django.db.models import Count
from django.utils import timezone

from notifications import services
from notifications.models import EmailKind, EmailState, lead_label


class Command(BaseCommand):
    help = "Show the email ledger (every kind), newest first, filtered by customer, kind and state."

    def add_arguments(self, parser):
        parser.add_argument("--customer", help="Customer name (part of it), schema name or id.")
        parser.add_argument("--kind", choices=EmailKind.values)
        parser.add_argument("--state", choices=EmailState.values)
        parser.add_argument("--limit", type=int, default=50, help="Rows to show (default 50, at most 1000).")

    def handle(self, *args, customer=None, kind=None, state=None, limit=50, **options):
        limit = min(max(limit, 1), 1000)
        rows_wanted = services.ledger(customer=customer, kind=kind, state=state)
        counts = rows_wanted.order_by().values("kind", "state").annotate(n=Count("pk"))
        summary = ", ".join(f"{row['kind']}/{row['state']} {row['n']}" for row in sorted(counts, key=str))
        self.stdout.write(f"Emails: {summary or 'none'}")
        due = services.due_emails(timezone.now(), 10**9).count()
        self.stdout.write(f"Emails due now: {due}")
        rows = list(rows_wanted[:limit])
        if not rows:
            return
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
