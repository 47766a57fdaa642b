"""Server time of the Activity pages at 10,000 and 1,000,000 audit events.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/licences .venv/bin/python benchmarks/activity.py

Creates a throwaway database ``licences_bench_activity`` on the server named by
DATABASE_URL (dropped at the end unless ``--keep``), migrates the public schema, and
makes 2,000 customers with a manager each, 1,960 of them the measured partner's and
40 another's (public rows; the measured customer also gets its schema). Events are
inserted with one SQL statement: first 10,000, then 990,000 more, spread over three
years and ten kinds; one in ten is the measured customer's, one in twenty the
partner's own (no customer). At each size it times, through Django's test Client and
the whole middleware stack, the partner's and the customer's Activity pages, first
page and a filtered deep page (kind of event, a keyset cursor half way down the
filtered log; the customer's with a date range too), beside a bare Django view that
runs one query, timed in the same turns as each viewer's pages, and counts each
page's queries. Target: within 3x the bare view, and the same number of queries at
10,000 and at 1,000,000 events.
"""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import (  # noqa: E402
    BARE,
    TIME_ZONES,
    count_queries,
    install_urls,
    measure_pages,
    page_benchmark,
    print_table,
)

BENCH_DATABASE = "licences_bench_activity"
# The same bare view, timed again in the customer's turns: the customer's pages are
# compared with it, not with a bare view timed a minute earlier under other load.
BARE_CUSTOMER = "bare view, in the customer's turns"
CUSTOMERS = 2_000
SIZES = (10_000, 1_000_000)
KINDS = (
    "order.requested",
    "order.assigned",
    "licences.allocated",
    "licences.renewed",
    "learners.added",
    "manage_mode.entered",
    "manage_mode.left",
    "order.cancelled",
    "learner.deactivated",
    "sign_in.failed",
)


def fill_world():
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, User
    from customers.models import Customer
    from customers.services import create_customer
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
    measured = create_customer(name="Measured Customer", partner=partner, schema_name="measured")
    customers = [measured] + Customer.objects.bulk_create(
        Customer(
            name=f"Customer {i:04d}",
            partner=partner if i % 50 else other,
            schema_name=f"bench_{i}",
            time_zone=TIME_ZONES[i % len(TIME_ZONES)],
        )
        for i in range(1, CUSTOMERS)
    )
    customer_managers = User.objects.bulk_create(
        User(
            email=f"manager@customer{i}.bench",
            full_name=f"Customer Manager {i}",
            role=Role.CUSTOMER_MANAGER,
            customer=customer,
            password=password,
        )
        for i, customer in enumerate(customers)
    )
    return partner, managers[0], measured, customer_managers[0]


def insert_events(first, last, measured):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH customers AS (
                SELECT array_agg(c.id ORDER BY c.id) AS ids, array_agg(c.partner_id ORDER BY c.id) AS partners,
                       array_agg(u.id ORDER BY c.id) AS managers
                FROM customers_customer c JOIN accounts_user u ON u.customer_id = c.id
            ), pm AS (
                SELECT min(id) AS id, min(partner_id) AS partner_id FROM accounts_user WHERE role = 'partner_manager'
            ), rows AS (
                SELECT n,
                       CASE WHEN n %% 10 = 0 THEN array_position(customers.ids, %s)
                            ELSE 1 + (n * 7919) %% cardinality(customers.ids) END AS k,
                       (%s::text[])[1 + ((n / 10) + n) %% 10] AS action
                FROM generate_series(%s::bigint, %s::bigint) AS n, customers
            )
            INSERT INTO accounts_auditevent (at, actor_id, action, partner_id, customer_id, in_manage_mode, details)
            SELECT now() - (((rows.n * 104729) %% 94608000) || ' seconds')::interval,
                   CASE WHEN rows.n %% 3 = 0 OR rows.n %% 20 = 1 THEN pm.id ELSE customers.managers[rows.k] END,
                   rows.action,
                   CASE WHEN rows.n %% 20 = 1 THEN pm.partner_id ELSE customers.partners[rows.k] END,
                   CASE WHEN rows.n %% 20 = 1 THEN NULL ELSE customers.ids[rows.k] END,
                   rows.n %% 3 = 0,
                   jsonb_build_object('order_id', rows.n, 'quantity', 1 + rows.n %% 50, 'allocated', 3,
                                      'renewed', 3, 'not_renewed', 0, 'orders', jsonb_build_object(rows.n::text, 3),
                                      'email', 'learner' || rows.n || '@bench.example', 'address', '203.0.113.9')
            FROM rows, customers, pm
            """,
            [measured.pk, list(KINDS), first, last],
        )
        cursor.execute("ANALYZE accounts_auditevent")


def half_way(events):
    """The keyset cursor of the event half way down ``events`` (newest first)."""
    from insight.activity import encode_cursor

    count = events.count()
    return encode_cursor(events.order_by("-at", "-id")[count // 2])


def bare_view(request):
    from django.http import HttpResponse

    from accounts.models import AuditEvent

    # One indexed query (the primary key's index), whatever the size of the log.
    latest = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    return HttpResponse(f"latest event: {latest}")


def pages(partner, measured):
    from datetime import date

    from accounts.models import AuditEvent

    partner_kind = AuditEvent.objects.filter(partner=partner, action="order.requested")
    first_day, last_day = date(2000, 1, 1), date(2999, 12, 31)
    customer_kind = AuditEvent.objects.filter(customer=measured, action="licences.renewed")
    return [
        ("partner", BARE, "/bench/bare/"),
        ("partner", "Partner Activity: first page", "/partner/activity/"),
        (
            "partner",
            "  kind filter, deep page",
            f"/partner/activity/?kind=order.requested&before={half_way(partner_kind)}",
        ),
        ("partner", "  customer name search", "/partner/activity/?customer=Customer+0007"),
        ("customer", BARE_CUSTOMER, "/bench/bare/"),
        ("customer", "Customer Activity: first page", "/activity/"),
        (
            "customer",
            "  kind + date range, deep page",
            f"/activity/?kind=licences.renewed&date_from={first_day}&date_to={last_day}"
            f"&before={half_way(customer_kind)}",
        ),
    ]


def main():
    page_benchmark(__doc__, BENCH_DATABASE, run, runs=30)


def run(args):
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate_schemas", shared=True, verbosity=0)
    install_urls(bare_view)
    partner, partner_manager, measured, customer_manager = fill_world()
    clients = {"partner": Client(), "customer": Client()}
    clients["partner"].force_login(partner_manager)
    clients["customer"].force_login(customer_manager)

    results, inserted = {}, 0
    labels = []
    for size in SIZES:
        started = time.perf_counter()
        insert_events(inserted + 1, size, measured)
        inserted = size
        listed = pages(partner, measured)
        labels = [label for _, label, _ in listed]
        print(
            f"{size:,} events inserted in {time.perf_counter() - started:.1f}s; timing {args.runs} requests per page ...",
            flush=True,
        )
        for who, client in clients.items():
            urls = [url for page_who, _, url in listed if page_who == who]
            times = measure_pages(client, urls, args.runs)
            for page_who, label, url in listed:
                if page_who == who:
                    results[label, size] = (times[url], *count_queries(client, url))

    customer_pages = {label: BARE_CUSTOMER for who, label, _ in listed if who == "customer"}
    search_paths = print_table(labels, results, SIZES, "events", yardstick=customer_pages)
    print()
    print(
        f"Median of {args.runs} requests per page through django.test.Client (all middleware, session, auth, "
        "template rendering); each viewer's pages take turns with the bare view, and are compared with it."
    )
    print(f"Queries leave out django-tenants' SET search_path ({'/'.join(map(str, search_paths))} per request).")
    print("Target: within 3x the bare view, the same queries at both sizes.")


if __name__ == "__main__":
    main()
