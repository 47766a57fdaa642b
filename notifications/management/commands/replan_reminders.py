"""Re-plan the pending reminders of live orders to their customers' schedules."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from customers.models import Customer
from notifications import planning
from notifications.models import lead_label


def _leads(hours):
    return ", ".join(lead_label(h) for h in hours) or "none"


class Command(BaseCommand):
    help = (
        "Make the pending reminders of live orders match their customers' schedules (one customer, "
        "or all). Never touches a reminder already sent. With --dry-run, list the changes only."
    )

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--customer", help="Customer name, schema name or id.")
        target.add_argument("--all", action="store_true", help="Every customer.")
        parser.add_argument("--dry-run", action="store_true", help="List what would change; change nothing.")

    def handle(self, *args, customer=None, all=False, dry_run=False, **options):
        now = timezone.now()
        target = self._customer(customer) if customer else None
        orders = planning.live_orders(now, target)
        if dry_run:
            changes = planning.planned_changes(orders, now)
            self.stdout.write(f"{len(changes)} order(s) would change (dry run):")
            for order, wanted, _pending, add, drop in changes:
                self.stdout.write(
                    f"  order #{order.pk} · {order.customer.name}: schedule {_leads(wanted)}; "
                    f"add {_leads(add)}; drop {_leads(drop)}"
                )
            return
        totals = planning.replan_orders(orders, now)
        self.stdout.write(
            f"Re-planned {totals['orders']} live order(s): {totals['planned']} reminder(s) planned, "
            f"{totals['moved']} moved, {totals['dropped']} dropped."
        )

    def _customer(self, value):
        customers = Customer.objects.exclude(schema_name="public")
        match = customers.filter(schema_name=value) or customers.filter(name__iexact=value)
        if not match and value.isdigit():
            match = customers.filter(pk=int(value))
        if len(match) != 1:
            raise CommandError(f"No single customer matches {value!r}.")
        return match[0]
