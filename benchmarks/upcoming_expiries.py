"""Server time of the partner's Upcoming expiries (renewals) page and the weekly
digest's read at 20 and 2,000 customers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/licences .venv/bin/python benchmarks/upcoming_expiries.py

Creates a throwaway database ``licences_bench_renewals`` (dropped at the end unless
``--keep``), migrates the public schema and fills the measured partner's customers
(public rows only: the page never enters a tenant schema): each has one order
expiring within 30 days with seats taken, two later orders, one requested order, and
the expiring order's reminder and expiry notice in the ledger. At each size it times,
through Django's test Client, the page beside a bare one-query view, counts its
queries, and times the digest's read (notifications.digest.contents). Target: within
3x the bare view and the same queries at both sizes.
"""

import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import (  # noqa: E402
    BARE,
    TIME_ZONES,
    count_queries,
    install_urls,
    measure_pages,
    median_ms,
    page_benchmark,
    print_table,
)

BENCH_DATABASE = "licences_bench_renewals"
SIZES = (20, 2_000)


def fill_partner():
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, User
    from partners.models import Partner

    partner = Partner.objects.create(name="Bench Partner")
    manager = User.objects.create(
        email="manager@partner.bench",
        full_name="Partner Manager",
        role=Role.PARTNER_MANAGER,
        partner=partner,
        password=make_password("bench-password"),
    )
    return partner, manager


def add_customers(partner, manager, first, count):
    from django.utils import timezone

    from customers.models import Customer
    from licences.models import LicenceOrder
    from notifications.models import EmailKind, OrderEmail

    now = timezone.now()
    customers = Customer.objects.bulk_create(
        Customer(
            name=f"Customer {i:05d}",
            partner=partner,
            schema_name=f"bench_{i}",
            time_zone=TIME_ZONES[i % len(TIME_ZONES)],
        )
        for i in range(first, first + count)
    )
    orders, expiring = [], []
    for n, customer in enumerate(customers):
        soon = now + timedelta(days=1 + n % 29, hours=n % 24)
        for expires_at, taken in ((soon, 3 + n % 7), (now + timedelta(days=120), 10), (now + timedelta(days=300), 2)):
            order = LicenceOrder(
                customer=customer,
                quantity=20,
                allocated_count=taken,
                status="assigned",
                requested_by=manager,
                assigned_by=manager,
                assigned_at=expires_at - timedelta(days=365),
                expires_at=expires_at,
            )
            orders.append(order)
            if expires_at == soon:
                expiring.append(order)
        orders.append(LicenceOrder(customer=customer, quantity=5, requested_by=manager))
    LicenceOrder.objects.bulk_create(orders)
    OrderEmail.objects.bulk_create(
        email
        for order in expiring
        for email in (
            OrderEmail(
                order=order, kind=EmailKind.REMINDER, lead_hours=72, due_at=order.expires_at - timedelta(hours=72)
            ),
            OrderEmail(order=order, kind=EmailKind.EXPIRY, due_at=order.expires_at),
        )
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def bare_view(request):
    from django.http import HttpResponse

    from licences.models import LicenceOrder

    latest = LicenceOrder.objects.order_by("-requested_at").values_list("pk", flat=True).first()
    return HttpResponse(f"latest order: {latest}")


def main():
    page_benchmark(__doc__, BENCH_DATABASE, run, runs=30)


def run(args):
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from notifications import digest

    call_command("migrate_schemas", shared=True, verbosity=0)
    install_urls(bare_view)
    partner, manager = fill_partner()
    client = Client()
    client.force_login(manager)
    page = "/partner/expiring/"
    listed = [(BARE, "/bench/bare/"), ("Upcoming expiries (renewals), page 1", page), ("  page 2", f"{page}?page=2")]
    results, made, digest_ms = {}, 0, {}
    for size in SIZES:
        started = time.perf_counter()
        add_customers(partner, manager, made + 1, size - made)
        made = size
        print(f"{size:,} customers filled in {time.perf_counter() - started:.1f}s; timing ...", flush=True)
        times = measure_pages(client, [url for _, url in listed], args.runs)
        for label, url in listed:
            results[label, size] = (times[url], *count_queries(client, url))
        digest_ms[size] = median_ms(args.runs, {"digest": lambda: digest.contents(partner, timezone.now())})["digest"]
    print_table([label for label, _ in listed], results, SIZES, "customers")
    print()
    for size in SIZES:
        print(f"Digest read (customers to renew + failed emails) at {size:,} customers: {digest_ms[size]:.2f} ms")
    print(f"Median of {args.runs} requests per page, the pages taking turns, through django.test.Client.")
    print("Target: within 3x the bare view, the same queries at both sizes.")


if __name__ == "__main__":
    main()
