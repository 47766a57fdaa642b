"""Server time of a customer's Licences overview, with its two charts, at 1,000
learners (10,000 allocation rows) and at 100,000 learners (1,000,000 rows).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/licences .venv/bin/python benchmarks/overview_charts.py

Creates a throwaway database ``licences_bench_charts`` on the server named by
DATABASE_URL (dropped at the end unless ``--keep``) and one customer on London time.
Its year: a new order assigned every month (12 valid orders, the oldest expiring
this month), every learner holding a current seat, and nine history rows a learner
(seats renewed or released over the past year), so the allocations table holds ten
rows per learner. The daily record behind the weekly chart is then filled from that
history (``learners.seat_history.record_past_days``, timed: the one-off pass over the
table a deploy runs through ``record_seat_history --all``), and today's row by the
hourly recorder.

Times, through Django's test Client and the whole middleware stack, the overview's
first page beside a bare Django view that runs one query in the same schema, and
counts each page's queries; and the same overview with its charts left out, for what
they cost on their own. Target: within 3x the bare view, the same queries at both
sizes.
"""

import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import (  # noqa: E402
    BARE,
    bench_customer,
    count_queries,
    insert_learners_sql,
    install_urls,
    measure_pages,
    page_benchmark,
    print_table,
)

BENCH_DATABASE = "licences_bench_charts"
SIZES = (1_000, 100_000)
HISTORY_PER_LEARNER = 9
SCHEMA = "charts"


def fill_world():
    """The partner, the customer and its manager, and its twelve valid orders (one
    assigned each month of the past year), with room for every learner."""
    from django.utils import timezone

    from licences.models import LicenceOrder, OrderStatus
    from licences.services import add_calendar_months
    from partners.models import Partner

    partner = Partner.objects.create(name="Bench Partner")
    customer, manager = bench_customer(partner, SCHEMA, "Charts Ltd")
    now = timezone.now()
    orders = []
    for months_ago in range(12):
        assigned_at = add_calendar_months(now, -months_ago, customer.tzinfo) - timedelta(days=1)
        orders.append(
            LicenceOrder.objects.create(
                customer=customer,
                quantity=max(SIZES),
                status=OrderStatus.ASSIGNED,
                requested_by=manager,
                requested_at=assigned_at - timedelta(hours=2),
                assigned_at=assigned_at,
                expires_at=add_calendar_months(assigned_at, 12, customer.tzinfo),
            )
        )
    return customer, manager, orders


def insert_year(customer, orders, first, last):
    """Learners ``first`` to ``last``: each a current seat of one of the orders and
    nine history rows of 30 to 40 days each, spread over the past year."""
    from django.db import connection

    from licences.models import LicenceOrder

    schema = customer.schema_name
    ids = [o.pk for o in orders]
    with connection.cursor() as cursor:
        insert_learners_sql(cursor, schema, first, last)
        cursor.execute(
            f"""
            INSERT INTO {schema}.learners_allocation
                (learner_id, order_id, expires_at, allocated_at, allocated_by_id, ended_at, end_reason)
            SELECT l.id, o.id, o.expires_at, o.assigned_at + interval '1 hour', NULL, NULL, ''
            FROM {schema}.learners_learner l
            JOIN public.licences_licenceorder o ON o.id = (%s::int[])[1 + l.id %% 12]
            WHERE l.id BETWEEN %s AND %s
            """,
            [ids, first, last],
        )
        cursor.execute(
            f"""
            INSERT INTO {schema}.learners_allocation
                (learner_id, order_id, expires_at, allocated_at, allocated_by_id, ended_at, end_reason)
            SELECT l.id, %s, s.at + interval '365 days', s.at, NULL, s.at + interval '30 days'
                   + (l.id %% 10) * interval '1 day', 'renewed'
            FROM {schema}.learners_learner l
            CROSS JOIN LATERAL (
                SELECT now() - interval '400 days' + k * interval '40 days' + (l.id %% 37) * interval '1 day' AS at
                FROM generate_series(1, %s) AS k
            ) s
            WHERE l.id BETWEEN %s AND %s
            """,
            [ids[-1], HISTORY_PER_LEARNER, first, last],
        )
        cursor.execute(f"ANALYZE {schema}.learners_learner, {schema}.learners_allocation")
    # Each order's seats, as the seat engine keeps them.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {LicenceOrder._meta.db_table} o SET allocated_count = n.seats
            FROM (SELECT order_id, COUNT(*) AS seats FROM {schema}.learners_allocation
                  WHERE ended_at IS NULL GROUP BY order_id) n
            WHERE o.id = n.order_id
            """
        )


def bare_view(request):
    """The yardstick: the same middleware (a customer manager in their schema), one
    query, a tiny response."""
    from django.http import HttpResponse

    from learners.models import Learner

    first = Learner.objects.order_by("email").values_list("pk", flat=True).first()
    return HttpResponse(f"first learner: {first}")


def overview_without_charts(request):
    """The same overview with its charts left out: what the charts themselves cost."""
    from licences.views import orders

    charts, orders.overview_charts = orders.overview_charts, lambda *args, **kwargs: []
    try:
        return orders.overview(request)
    finally:
        orders.overview_charts = charts


def main():
    page_benchmark(__doc__, BENCH_DATABASE, run, runs=20)


def run(args):
    from django.core.management import call_command
    from django.test import Client

    from learners import seat_history
    from learners.models import Allocation
    from licences import seat_use

    call_command("migrate_schemas", shared=True, verbosity=0)
    install_urls(bare_view, extra={"bench/overview-without-charts/": overview_without_charts})
    customer, manager, orders = fill_world()
    client = Client()
    client.force_login(manager)
    pages = [
        (BARE, "/bench/bare/"),
        ("Licences overview, both charts", "/licences/"),
        ("  the same without its charts", "/bench/overview-without-charts/"),
    ]

    results, inserted = {}, 0
    for size in SIZES:
        started = time.perf_counter()
        insert_year(customer, orders, inserted + 1, size)
        inserted = size
        with customer:
            rows = Allocation.objects.count()
        filled = time.perf_counter()
        days = seat_history.record_past_days(customer)
        seat_use.record_today()
        recorded = time.perf_counter() - filled
        print(
            f"{size:,} learners, {rows:,} allocation rows inserted in {filled - started:.1f}s; "
            f"{days} days recorded from the history in {recorded:.2f}s; timing {args.runs} requests per page ...",
            flush=True,
        )
        times = measure_pages(client, [url for _, url in pages], args.runs)
        for label, url in pages:
            results[label, size] = (times[url], *count_queries(client, url))

    search_paths = print_table([label for label, _ in pages], results, SIZES, "learners")
    print()
    print(
        f"Median of {args.runs} requests per page, taking turns, through django.test.Client (all middleware, "
        "session, auth, template rendering, both SVG charts); allocation rows are ten per learner."
    )
    print(f"Queries leave out django-tenants' SET search_path ({'/'.join(map(str, search_paths))} per request).")
    print("Target: within 3x the bare view, the same queries at both sizes.")


if __name__ == "__main__":
    main()
