"""Run the scheduler's pass over the email ledger once, by hand."""

from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from notifications import services


class Command(BaseCommand):
    help = (
        "Send every email of the ledger due now (licence requests, licences ready, reminders, expiry "
        "notices, seat alerts, retries), each once, exactly as the periodic task does. With --dry-run, list what "
        "would be sent and claim nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List the due emails; send and record nothing.")
        parser.add_argument("--batch-size", type=int, default=None, help="Emails per batch (default: the setting).")

    def handle(self, *args, dry_run=False, batch_size=None, **options):
        if batch_size is not None and not 1 <= batch_size <= 10_000:
            raise CommandError("--batch-size must be from 1 to 10000.")
        if dry_run:
            self._dry_run(batch_size)
        else:
            self._run(batch_size)

    def _dry_run(self, batch_size):
        now = timezone.now()
        plan = services.plan_due_emails(now, batch_size)
        alerts = services.plan_due_alerts(now, batch_size)
        if not plan and not alerts:
            self.stdout.write("No email is due.")
            return
        self.stdout.write(f"{len(plan) + len(alerts)} email(s) due at {now:%Y-%m-%d %H:%M:%S} UTC (dry run):")
        for item in alerts:
            alert = item.email
            to = ", ".join(item.recipients) or "nobody"
            self.stdout.write(
                f"  seat alert #{alert.pk} · {alert.customer.name} · since "
                f"{timezone.localtime(alert.started_at, alert.customer.tzinfo):%Y-%m-%d %H:%M} "
                f"{alert.customer.time_zone}: {item.action} → {to}"
            )
        for item in plan:
            order = item.email.order
            local = timezone.localtime(order.expires_at, order.customer.tzinfo) if order.expires_at else None
            expires = f"expires {local:%Y-%m-%d %H:%M} {order.customer.time_zone}" if local else order.status
            to = ", ".join(item.recipients) or "nobody"
            self.stdout.write(
                f"  order #{order.pk} · {order.customer.name} · {order.quantity} licences · "
                f"{expires}: {item.action} → {to}"
            )

    def _run(self, batch_size):
        totals, batches = Counter(), 0
        while True:
            summary = services.send_due_emails(limit=batch_size)
            batches += 1
            totals.update(summary.as_dict())
            if not summary.more_may_be_due:
                break
        parts = ", ".join(
            f"{key} {value}" for key, value in sorted(totals.items()) if key not in ("scanned", "claimed")
        )
        self.stdout.write(
            f"Scanned {totals['scanned']} due email(s) in {batches} batch(es); "
            f"claimed {totals['claimed']}" + (f": {parts}." if parts else ".")
        )
        if totals["failed"]:
            self.stderr.write("Some emails failed; see `manage.py notification_status --state failed`.")
