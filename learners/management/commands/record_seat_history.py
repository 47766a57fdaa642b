from django.core.management.base import BaseCommand, CommandError

from customers.models import Customer
from learners import seat_history


class Command(BaseCommand):
    help = (
        "Fill the daily record of seats in use (the Licences overview's weekly chart) for the past year from "
        "the allocation history: once after installing, or for a customer whose record has gaps."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--customer", help="Customer schema name or id")
        which.add_argument("--all", action="store_true", help="Every active customer")
        parser.add_argument("--days", type=int, default=seat_history.DAYS, help="Days back from yesterday")

    def handle(self, customer, all, days, **options):
        if not 1 <= days <= 3660:
            raise CommandError("--days must be from 1 to 3660.")
        if all:
            customers = Customer.objects.filter(is_active=True).exclude(schema_name="public").order_by("pk")
        else:
            lookup = {"pk": int(customer)} if customer.isdigit() else {"schema_name": customer}
            customers = Customer.objects.filter(**lookup)
            if not customers:
                raise CommandError(f"No customer {customer!r}.")
        for one in customers.iterator():
            written = seat_history.record_past_days(one, days=days)
            self.stdout.write(f"{one.schema_name}: {written} days recorded.")
