"""The expiry-notification ledger, for operators."""

from django.core.management.base import BaseCommand
from django.db.models import Count
from django.utils import timezone

from licences.models import LicenceOrder
from notifications import services
from notifications.models import NoticeKind, NoticeState


class Command(BaseCommand):
    help = "Show the expiry-notification ledger, newest first, filtered by customer, kind and state."

    def add_arguments(self, parser):
        parser.add_argument("--customer", help="Customer name (part of it), schema name or id.")
        parser.add_argument("--kind", choices=NoticeKind.values)
        parser.add_argument("--state", choices=NoticeState.values)
        parser.add_argument("--limit", type=int, default=50, help="Rows to show (default 50, at most 1000).")

    def handle(self, *args, customer=None, kind=None, state=None, limit=50, **options):
        limit = min(max(limit, 1), 1000)
        notices = services.ledger(customer=customer, kind=kind, state=state)
        counts = notices.order_by().values("kind", "state").annotate(n=Count("pk"))
        summary = ", ".join(f"{row['kind']}/{row['state']} {row['n']}" for row in sorted(counts, key=str))
        self.stdout.write(f"Notices: {summary or 'none'}")
        due = LicenceOrder.objects.filter(next_notice_at__lte=timezone.now()).count()
        self.stdout.write(f"Orders with a notice due now: {due}")
        rows = list(notices[:limit])
        if not rows:
            return
        self.stdout.write(
            f"{'id':>7}  {'order':>7}  {'customer':<24} {'kind':<13} {'state':<9} {'tries':>5}  "
            f"{'claimed (UTC)':<16}  {'sent (UTC)':<16}  {'to':>3}  message id / error"
        )
        for notice in rows:
            sent = f"{notice.sent_at:%Y-%m-%d %H:%M}" if notice.sent_at else "-"
            detail = notice.error.splitlines()[0] if notice.error else notice.message_id
            self.stdout.write(
                f"{notice.pk:>7}  {notice.order_id:>7}  {notice.order.customer.name[:24]:<24} {notice.kind:<13} "
                f"{notice.state:<9} {notice.attempts:>5}  {notice.claimed_at:%Y-%m-%d %H:%M}  {sent:<16}  "
                f"{notice.recipient_count:>3}  {detail}"
            )
