"""The learners export at 100,000 learners beside PostgreSQL's own COPY of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/licences .venv/bin/python benchmarks/exports.py

Creates a throwaway database ``licences_bench_exports`` on the server named by
DATABASE_URL (dropped at the end unless ``--keep``), one customer with its schema
and manager, and 100,000 learners (nine in ten with a valid seat, the rest expired or
never licensed) inserted with SQL. It then times, in turns:

- **the export**: GET /learners/export.csv through Django's test Client and the whole
  middleware stack, its streamed body read to the last byte;
- **the yardstick**: ``COPY (the export's own SELECT) TO STDOUT WITH (FORMAT csv)``
  read to the last byte through psycopg: the same rows, formatted by PostgreSQL.

and, in the same run, the export's peak memory: Python's allocations (tracemalloc)
and the process's resident set high-water mark (ru_maxrss) before and after one
export. Target: within 3x the COPY, peak memory under 50 MB.
"""

import resource
import sys
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import median_ms, page_benchmark  # noqa: E402

BENCH_DATABASE = "licences_bench_exports"
LEARNERS = 100_000


def fill_world():
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Role, User
    from customers.services import create_customer
    from licences.models import LicenceOrder, OrderStatus
    from partners.models import Partner

    partner = Partner.objects.create(name="Bench Partner")
    customer = create_customer(name="Export Bench Ltd", partner=partner, schema_name="exports")
    manager = User.objects.create(
        email="manager@exports.bench", role=Role.CUSTOMER_MANAGER, customer=customer, password=make_password("x")
    )
    now = timezone.now()
    orders = [
        LicenceOrder.objects.create(
            customer=customer,
            quantity=LEARNERS,
            status=OrderStatus.ASSIGNED,
            requested_by=manager,
            requested_at=expires - timedelta(days=366),
            assigned_at=expires - timedelta(days=365),
            expires_at=expires,
        )
        for expires in (now + timedelta(days=200), now - timedelta(days=3))
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO exports.learners_learner (email, name, status, created_at)
            SELECT 'learner' || lpad(g::text, 6, '0') || '@exports.example', 'Learner ' || g, 'active',
                   now() - (g || ' minutes')::interval
            FROM generate_series(1, %s) AS g
            """,
            [LEARNERS],
        )
        cursor.execute(
            """
            INSERT INTO exports.learners_allocation (learner_id, order_id, expires_at, allocated_at, ended_at, end_reason)
            SELECT l.id, CASE WHEN l.id %% 10 = 1 THEN %s ELSE %s END,
                   CASE WHEN l.id %% 10 = 1 THEN %s::timestamptz ELSE %s END, now() - interval '100 days', NULL, ''
            FROM exports.learners_learner l WHERE l.id %% 20 <> 7
            """,
            [orders[1].pk, orders[0].pk, orders[1].expires_at, orders[0].expires_at],
        )
        cursor.execute("ANALYZE exports.learners_learner, exports.learners_allocation")
    return customer, manager


def main():
    page_benchmark(__doc__, BENCH_DATABASE, run, runs=7, runs_help="timed runs of each (median reported)")


def run(args):
    import psycopg
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from insight import exports

    call_command("migrate_schemas", shared=True, verbosity=0)
    customer, manager = fill_world()
    client = Client()
    client.force_login(manager)

    def export():
        response = client.get("/learners/export.csv")
        assert response.status_code == 200
        return sum(len(chunk) for chunk in response.streaming_content)

    with customer:
        sql, params = exports.learners_sql(customer)
    copy_sql = psycopg.ClientCursor(connection.connection).mogrify(sql, params)

    def copy():
        size = 0
        with (
            customer,
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY ({copy_sql}) TO STDOUT WITH (FORMAT csv)") as stream,
        ):
            for block in stream:
                size += len(block)
        return size

    print(f"{LEARNERS:,} learners inserted; export {export():,} bytes, COPY {copy():,} bytes.", flush=True)
    times = median_ms(args.runs, {"export": export, "copy": copy}, warm_up=1)

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    export()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    export()
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print()
    print(f"{'':<40}{'ms':>10}{'x COPY':>10}")
    print(f"{'COPY … TO STDOUT (yardstick)':<40}{times['copy']:>10.1f}{1:>10.2f}")
    print(
        f"{'GET /learners/export.csv (streamed)':<40}{times['export']:>10.1f}{times['export'] / times['copy']:>10.2f}"
    )
    print()
    print(f"Peak Python memory during one export (tracemalloc): {python_peak / 2**20:.1f} MB")
    print(
        f"Process resident high-water mark: {rss_before / 1024:.1f} MB before one export, "
        f"{rss_after / 1024:.1f} MB after (growth {(rss_after - rss_before) / 1024:.1f} MB)"
    )
    print(f"Median of {args.runs} runs each, taking turns. Target: within 3x the COPY, peak memory under 50 MB.")


if __name__ == "__main__":
    main()
