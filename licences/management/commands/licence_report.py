"""Operators' report: per customer, its orders and pool figures."""

import csv

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Q
from django.utils import timezone

from common.spreadsheet import safe_row
from customers.models import Customer
from licences.models import LicenceOrder, OrderStatus
from licences.services import with_pool_figures
from partners.models import Partner

CUSTOMER_COLUMNS = [
    ("partner", "Partner"),
    ("customer_id", "Customer id"),
    ("customer", "Customer"),
    ("schema", "Schema"),
    ("time_zone", "Time zone"),
    ("requested", "Requested orders"),
    ("valid", "Valid orders"),
    ("expired", "Expired orders"),
    ("cancelled", "Cancelled orders"),
    ("total", "Total"),
    ("allocated", "Allocated"),
    ("free", "Free"),
    ("next_expiry", "Next expiry"),
]
ORDER_COLUMNS = [
    ("partner", "Partner"),
    ("customer", "Customer"),
    ("order", "Order"),
    ("quantity", "Licences"),
    ("status", "Status"),
    ("allocated", "Allocated"),
    ("free", "Free"),
    ("requested_at", "Requested"),
    ("requested_by", "Requested by"),
    ("assigned_at", "Assigned"),
    ("expires_at", "Expires"),
]
NUMERIC = {
    "customer_id",
    "requested",
    "valid",
    "expired",
    "cancelled",
    "total",
    "allocated",
    "free",
    "order",
    "quantity",
}


class Command(BaseCommand):
    help = (
        "Licence figures per customer (all, one partner's, or one): orders by state and the pool "
        "(total, allocated, free, next expiry) of valid orders. With --orders, one line per order. "
        "Times are in each customer's time zone."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--partner", help="Only this partner's customers: its id or exact name.")
        which.add_argument("--customer", help="Only this customer: its id or schema name.")
        parser.add_argument("--orders", action="store_true", help="One line per order instead of per customer.")
        parser.add_argument("--format", choices=["table", "csv"], default="table")

    def handle(self, *args, partner=None, customer=None, orders=False, format="table", **options):
        customers = Customer.objects.select_related("partner")
        if partner:
            customers = customers.filter(partner=self._partner(partner))
        if customer:
            customers = customers.filter(pk=self._customer(customer).pk)
        now = timezone.now()
        if orders:
            columns, rows = ORDER_COLUMNS, self._order_rows(customers)
        else:
            columns, rows = CUSTOMER_COLUMNS, self._customer_rows(customers, now)
        if format == "csv":
            self._write_csv(columns, rows)
        else:
            self._write_table(columns, list(rows))

    # --- which customers --------------------------------------------------------------
    def _partner(self, value):
        lookup = Q(pk=int(value)) if value.isdigit() else Q(name=value)
        partner = Partner.objects.filter(lookup).first()
        if partner is None:
            raise CommandError(f"There is no partner {value!r} (give its id or exact name).")
        return partner

    def _customer(self, value):
        lookup = Q(pk=int(value)) if value.isdigit() else Q(schema_name=value)
        found = Customer.objects.filter(lookup).first()
        if found is None:
            raise CommandError(f"There is no customer {value!r} (give its id or schema name).")
        return found

    # --- the rows ---------------------------------------------------------------------
    def _customer_rows(self, customers, now):
        """One query, whatever the number of customers: the figures are aggregates."""
        expired = Q(orders__status=OrderStatus.ASSIGNED, orders__expires_at__lte=now)
        valid = Q(orders__status=OrderStatus.ASSIGNED, orders__expires_at__gt=now)
        customers = (
            with_pool_figures(customers, now)
            .annotate(
                requested=Count("orders", filter=Q(orders__status=OrderStatus.REQUESTED)),
                valid=Count("orders", filter=valid),
                expired=Count("orders", filter=expired),
                cancelled=Count("orders", filter=Q(orders__status=OrderStatus.CANCELLED)),
            )
            .order_by("partner__name", "name", "pk")
        )
        for c in customers.iterator(chunk_size=2000):
            yield {
                "partner": c.partner.name,
                "customer_id": c.pk,
                "customer": c.name,
                "schema": c.schema_name,
                "time_zone": c.time_zone,
                "requested": c.requested,
                "valid": c.valid,
                "expired": c.expired,
                "cancelled": c.cancelled,
                "total": c.seats_total,
                "allocated": c.seats_allocated,
                "free": c.seats_free,
                "next_expiry": _local(c.next_expiry, c),
            }

    def _order_rows(self, customers):
        orders = (
            LicenceOrder.objects.filter(customer__in=customers)
            .select_related("customer__partner", "requested_by")
            .order_by("customer__partner__name", "customer__name", "customer_id", "-requested_at", "-id")
        )
        for o in orders.iterator(chunk_size=2000):
            c = o.customer
            expired = o.is_expired()
            yield {
                "partner": c.partner.name,
                "customer": c.name,
                "order": o.pk,
                "quantity": o.quantity,
                "status": "expired" if expired else o.status,
                "allocated": o.allocated_count,
                "free": 0 if expired or o.status != OrderStatus.ASSIGNED else o.free_seats,
                "requested_at": _local(o.requested_at, c),
                "requested_by": o.requested_by.email,
                "assigned_at": _local(o.assigned_at, c),
                "expires_at": _local(o.expires_at, c),
            }

    # --- output -----------------------------------------------------------------------
    def _write_csv(self, columns, rows):
        # Names come from people: safe_row stops a spreadsheet running them as formulas.
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow([title for _, title in columns])
        for row in rows:
            writer.writerow(safe_row(row[key] for key, _ in columns))

    def _write_table(self, columns, rows):
        if not rows:
            self.stdout.write("No customers match." if columns is CUSTOMER_COLUMNS else "No orders match.")
            return
        cells = [[("" if row[key] is None else str(row[key])) for key, _ in columns] for row in rows]
        titles = [title for _, title in columns]
        widths = [max(len(title), *(len(line[i]) for line in cells)) for i, title in enumerate(titles)]

        def line(values):
            return "  ".join(
                value.rjust(width) if key in NUMERIC else value.ljust(width)
                for (key, _), value, width in zip(columns, values, widths, strict=True)
            ).rstrip()

        self.stdout.write(line(titles))
        self.stdout.write("  ".join("-" * width for width in widths))
        for values in cells:
            self.stdout.write(line(values))


def _local(moment, customer):
    """A moment on the customer's clock, with its offset: unambiguous, and what they see."""
    if moment is None:
        return None
    return moment.astimezone(customer.tzinfo).isoformat(sep=" ", timespec="minutes")
