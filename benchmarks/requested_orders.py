"""Server time of the partner's Requested Orders page at 1,000 and 100,000 orders.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/licences .venv/bin/python benchmarks/requested_orders.py

Creates a throwaway database ``licences_bench`` on the server named by DATABASE_URL
(dropped at the end unless ``--keep``), migrates the public schema, and fills 2,000
customers with a manager each, 1,960 of them the measured partner's and 40 another's
(public rows only: the page never enters a tenant schema, so no schemas are created). Orders are inserted with one
SQL statement: first 1,000, then 99,000 more. At each size it times, through Django's
test Client and the whole middleware stack, the Requested Orders page (default,
every status, and with two filters) beside a bare Django view that runs one query,
and counts each page's queries. Target: within 3x the bare view, and the same number
of queries at 1,000 and at 100,000 orders.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import (  # noqa: E402
    BARE,
    TIME_ZONES,
    count_queries,
    deep_url,
    install_urls,
    measure_pages,
    print_table,
    throwaway_database,
)

BENCH_DATABASE = "licences_bench"
CUSTOMERS = 2_000
SIZES = (1_000, 100_000)


# --- The world ------------------------------------------------------------------------


def fill_world():
    """One partner, its two managers, 2,000 customers with one manager each."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, User
    from customers.models import Customer
    from partners.models import Partner

    partner = Partner.objects.create(name="Bench Partner")
    other = Partner.objects.create(name="Other Partner")
    password = make_password("bench-password")
    managers = User.objects.bulk_create(
        User(
            email=f"manager{i}@partner.bench",
            full_name=f"Partner Manager {i}",
            role=Role.PARTNER_MANAGER,
            partner=partner,
            password=password,
        )
        for i in (1, 2)
    )
    customers = Customer.objects.bulk_create(
        Customer(
            name=f"Customer {i:04d}",
            partner=partner if i % 50 else other,
            schema_name=f"bench_{i}",
            time_zone=TIME_ZONES[i % len(TIME_ZONES)],
        )
        for i in range(1, CUSTOMERS + 1)
    )
    User.objects.bulk_create(
        User(
            email=f"manager@customer{i}.bench",
            full_name=f"Customer Manager {i}",
            role=Role.CUSTOMER_MANAGER,
            customer=customer,
            password=password,
        )
        for i, customer in enumerate(customers, start=1)
    )
    return partner, managers[0]


def insert_orders(count, first):
    """``count`` orders numbered from ``first``, over every customer, requested over the
    last three years: 1 in 10 requested, 1 in 20 cancelled, the rest assigned, each
    requested by the customer's manager or (in manage mode) a partner manager."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH customers AS (
                SELECT array_agg(c.id ORDER BY c.id) AS ids, array_agg(u.id ORDER BY c.id) AS managers
                FROM customers_customer c JOIN accounts_user u ON u.customer_id = c.id
            ), partner_manager AS (
                SELECT min(id) AS id FROM accounts_user WHERE role = 'partner_manager'
            ), rows AS (
                SELECT n,
                       1 + (n * 7919) %% cardinality(customers.ids) AS k,
                       now() - (((n * 104729) %% 1095) || ' days')::interval
                             - (((n * 613) %% 86400) || ' seconds')::interval AS requested_at,
                       CASE WHEN n %% 10 = 0 THEN 'requested' WHEN n %% 20 = 1 THEN 'cancelled' ELSE 'assigned' END
                           AS status
                FROM generate_series(%s::bigint, %s::bigint) AS n, customers
            )
            INSERT INTO licences_licenceorder
                (customer_id, quantity, status, allocated_count, requested_at, requested_by_id,
                 assigned_at, assigned_by_id, cancelled_at, cancelled_by_id, expires_at)
            SELECT customers.ids[rows.k],
                   1 + (rows.n * 31) %% 500,
                   rows.status,
                   0,
                   rows.requested_at,
                   CASE WHEN rows.n %% 3 = 0 THEN partner_manager.id ELSE customers.managers[rows.k] END,
                   CASE WHEN rows.status = 'assigned' THEN rows.requested_at + interval '1 day' END,
                   CASE WHEN rows.status = 'assigned' THEN partner_manager.id END,
                   CASE WHEN rows.status = 'cancelled' THEN rows.requested_at + interval '1 day' END,
                   CASE WHEN rows.status = 'cancelled' THEN partner_manager.id END,
                   CASE WHEN rows.status = 'assigned' THEN rows.requested_at + interval '1 day 1 year' END
            FROM rows, customers, partner_manager
            """,
            [first, first + count - 1],
        )
        cursor.execute("ANALYZE")


# --- The pages ----------------------------------------------------------------------


def bare_view(request):
    """The yardstick: the same middleware, one query, a tiny response."""
    from django.http import HttpResponse

    from licences.models import LicenceOrder

    latest = LicenceOrder.objects.order_by("-requested_at").values_list("pk", flat=True).first()
    return HttpResponse(f"latest order: {latest}")


def pages(partner, manager):
    from customers.models import Customer

    customer = Customer.objects.filter(partner=partner).order_by("pk")[7]
    orders = "/partner/licences/orders/"
    return [
        (BARE, "/bench/bare/"),
        ("Requested Orders (default: requested)", orders),
        ("Requested Orders, any status", f"{orders}?status=any"),
        ("  2 filters: customer + requested from", f"{orders}?customer={customer.pk}&requested_from=2020-01-01"),
        ("  2 filters: licences from + requester", f"{orders}?quantity_min=250&requester={manager.pk}"),
        ("  any status, page 40", f"{orders}?status=any&page=40"),
        ("  Add Filter form open (2,000 customers)", f"{orders}?filters=open"),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="timed requests per page (median reported)")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DATABASE} database afterwards")
    args = parser.parse_args()

    os.environ["ALLOWED_HOSTS"] = "testserver"  # the test Client's host
    with throwaway_database(BENCH_DATABASE, keep=args.keep):
        run(args)


def run(args):
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate_schemas", shared=True, verbosity=0)
    install_urls(bare_view)
    partner, manager = fill_world()
    client = Client()
    client.force_login(manager)
    listed = pages(partner, manager)

    results, inserted = {}, 0
    for size in SIZES:
        started = time.perf_counter()
        insert_orders(size - inserted, first=inserted + 1)
        inserted = size
        print(
            f"{size:,} orders over {CUSTOMERS:,} customers inserted in {time.perf_counter() - started:.1f}s; "
            f"timing {args.runs} requests per page ...",
            flush=True,
        )
        deep = {url: deep_url(client, url) for _, url in listed}  # page 40 as reached by Next
        times = measure_pages(client, list(deep.values()), args.runs)
        for label, url in listed:
            results[label, size] = (times[deep[url]], *count_queries(client, deep[url]))

    search_paths = print_table([label for label, _ in listed], results, SIZES, "orders")
    print()
    print(
        f"Median of {args.runs} requests per page, the pages taking turns, through django.test.Client (all "
        "middleware, session, auth, template rendering)."
    )
    print(
        f"Queries leave out django-tenants' SET search_path ({'/'.join(map(str, search_paths))} per request"
        "; TENANT_LIMIT_SET_CALLS: one each time the schema changes)."
    )
    print(
        "The partner owns 1,960 of the 2,000 customers and 98% of the orders. Target: within 3x the bare "
        "view, the same queries at both sizes."
    )


if __name__ == "__main__":
    main()
