"""The email ledger's scan over 1,000,000 orders, at 200 and at 2,000 customers, and
whole passes sending 1,000 due emails.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/licences .venv/bin/python benchmarks/expiry_scan.py

Creates a throwaway database ``licences_bench_ledger_scan`` on the server named by
DATABASE_URL (dropped at the end unless ``--keep``) and migrates the public schema.
For each customer count it fills, with bulk SQL, one partner, the customers (public
rows only: the scan never enters a tenant schema, so no schemas are created) with one
manager each, and 1,000,000 assigned orders spread over those customers, assigned
uniformly over the last two years, and their ledger (about 3,000,000 rows: licences
ready, the 72-hour reminder, the expiry notice) as a scheduler that last ran six hours
ago would leave it: what fell due before then is sent, the rest pending.

Then it times, median of many runs taking turns:
- the scan, exactly as the periodic task runs it (``notifications.services.due_email_ids``
  through Django's connection), beside the bare indexed SELECT of the same rows sent straight
  through psycopg;
in two situations: steady state (beat ran five minutes ago: a few notices due) and
catch-up (beat was down six hours: more due than one batch). It counts the queries
of the scan, and times whole passes that also claim, send (to Django's in-memory
backend) and record each due email, at the default batch and over 1,000 due emails
(beat down twelve hours, one worker, one batch of 1,000).

Targets: the scan within 2x the bare SELECT; a pass of 1,000 emails at 200 or more
emails per second; queries per email the same at 200 and 2,000 customers.
"""

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import TIME_ZONES, QueryCounter, median_ms, throwaway_database  # noqa: E402

BENCH_DATABASE = "licences_bench_ledger_scan"
ORDERS = 1_000_000
CUSTOMER_COUNTS = (200, 2_000)
# The moment the benchmark's scheduler runs; the data is laid out around it.
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
OUTAGE = timedelta(hours=6)
THOUSAND = 1_000
INTERVAL = timedelta(minutes=5)


# --- The world ------------------------------------------------------------------------------


def fill(customer_count: int):
    """A partner, ``customer_count`` customers with a manager each, 1,000,000 orders and
    the ledger rows of the notices already sent, as of a last scan six hours ago."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from accounts.models import Role, User
    from customers.models import Customer
    from partners.models import Partner

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE notifications_orderemail, licences_licenceorder, accounts_auditevent, accounts_user, "
            "customers_domain, customers_customer, partners_partner RESTART IDENTITY CASCADE"
        )
    partner = Partner.objects.create(name="Bench Partner")
    password = make_password("bench-password")
    partner_manager = User.objects.create(
        email="manager@partner.bench", role=Role.PARTNER_MANAGER, partner=partner, password=password
    )
    # bulk_create skips Customer.save(), so no tenant schema is created.
    customers = Customer.objects.bulk_create(
        Customer(
            name=f"Customer {i:04d}",
            partner=partner,
            schema_name=f"bench_{i}",
            time_zone=TIME_ZONES[i % len(TIME_ZONES)],
        )
        for i in range(1, customer_count + 1)
    )
    User.objects.bulk_create(
        User(
            email=f"manager@customer{i}.bench",
            role=Role.CUSTOMER_MANAGER,
            customer=customer,
            password=password,
        )
        for i, customer in enumerate(customers, start=1)
    )
    last_scan = NOW - OUTAGE
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH customers AS (SELECT array_agg(id ORDER BY id) AS ids FROM customers_customer),
            rows AS (
                SELECT n,
                       customers.ids[1 + (n * 7919) %% cardinality(customers.ids)] AS customer_id,
                       %(now)s::timestamptz - ((n * 104729) %% (730 * 86400)) * interval '1 second' AS assigned_at
                FROM generate_series(1::bigint, %(orders)s::bigint) AS n, customers
            ), orders AS (
                SELECT *, assigned_at + interval '1 year' AS expires_at FROM rows
            )
            INSERT INTO licences_licenceorder
                (customer_id, quantity, status, allocated_count, requested_at, requested_by_id,
                 assigned_at, assigned_by_id, expires_at)
            SELECT customer_id, 1 + n %% 500, 'assigned', (1 + n %% 500) / 2, assigned_at - interval '1 day',
                   %(manager)s, assigned_at, %(manager)s, expires_at
            FROM orders
            """,
            {"now": NOW, "orders": ORDERS, "manager": partner_manager.pk, "last_scan": last_scan},
        )
        cursor.execute(
            """
            INSERT INTO notifications_orderemail
                (order_id, kind, lead_hours, due_at, state, planned_at, claimed_at, attempts, sent_at,
                 recipient_count, message_id, error)
            SELECT o.id, e.kind, e.lead, e.due_at,
                   CASE WHEN e.due_at <= %(last_scan)s THEN 'sent' ELSE 'pending' END,
                   o.assigned_at,
                   CASE WHEN e.due_at <= %(last_scan)s THEN e.due_at END,
                   CASE WHEN e.due_at <= %(last_scan)s THEN 1 ELSE 0 END,
                   CASE WHEN e.due_at <= %(last_scan)s THEN e.due_at END,
                   CASE WHEN e.due_at <= %(last_scan)s THEN 1 ELSE 0 END, '', ''
            FROM licences_licenceorder o,
                 LATERAL (VALUES ('licences_ready', 0, o.assigned_at),
                                 ('reminder', 72, o.expires_at - interval '72 hours'),
                                 ('expiry', 0, o.expires_at)) AS e (kind, lead, due_at)
            """,
            {"last_scan": last_scan},
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# --- Measuring ------------------------------------------------------------------------------


def counted(function, *args, **kwargs):
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        result = function(*args, **kwargs)
    return result, counter.queries


BARE_SQL = (
    "SELECT id FROM notifications_orderemail WHERE due_at <= %s AND state IN ('pending', 'claimed', 'retrying') "
    "AND (state <> 'claimed' OR claimed_at <= %s) ORDER BY due_at, id LIMIT %s"
)


def bare_select(now, limit):
    """The yardstick: the same rows, the SQL written by hand, sent straight through psycopg."""
    from django.db import connection

    from notifications.ledger import claim_timeout

    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute(BARE_SQL, (now, now - claim_timeout(), limit))
        return [row[0] for row in cursor.fetchall()]


def plan_of(now, limit) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + BARE_SQL, [now, now, limit])
        lines = [row[0].strip() for row in cursor.fetchall()]
    return next((line for line in lines if "Index" in line), lines[0])


def measure(customer_count, runs):
    from django.conf import settings

    from notifications import services

    batch = settings.EXPIRY_SCAN_BATCH_SIZE
    situations = {
        "steady state (last beat 5 min ago)": NOW - OUTAGE + INTERVAL,
        "catch-up (beat down 6 hours)": NOW,
    }
    rows = []
    for label, now in situations.items():
        due = services.due_email_ids(now, 10 * ORDERS)
        scan = services.due_email_ids(now, batch)
        assert scan == bare_select(now, batch), "the scan and the bare SELECT must return the same rows"
        times = median_ms(
            runs,
            {
                "scan": lambda now=now: services.due_email_ids(now, batch),
                "bare": lambda now=now: bare_select(now, batch),
            },
        )
        _, scan_queries = counted(services.due_email_ids, now, batch)
        rows.append((label, len(due), len(scan), times, scan_queries, plan_of(now, batch)))

    # Whole passes, as the task runs them (they change the data, so they come last).
    passes = []
    situations[f"{THOUSAND:,} due (beat down 12 hours)"] = NOW + OUTAGE
    for label, now in situations.items():
        limit = THOUSAND if "12 hours" in label else None
        started = time.perf_counter()
        summary, queries = counted(services.send_due_emails, now=now, limit=limit)
        elapsed = time.perf_counter() - started
        passes.append((label, summary, queries, elapsed))
    _, quiet_queries = counted(services.send_due_emails, now=NOW - OUTAGE + INTERVAL)
    return rows, passes, quiet_queries


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="timed scans per situation (median reported)")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DATABASE} database afterwards")
    args = parser.parse_args()

    with throwaway_database(BENCH_DATABASE, keep=args.keep):
        run(args)


def run(args):
    from django.core.management import call_command

    call_command("migrate_schemas", shared=True, verbosity=0)
    results = {}
    for customer_count in CUSTOMER_COUNTS:
        started = time.perf_counter()
        fill(customer_count)
        print(
            f"{ORDERS:,} orders over {customer_count:,} customers (and their ledger) inserted in "
            f"{time.perf_counter() - started:.1f}s; timing ...",
            flush=True,
        )
        results[customer_count] = measure(customer_count, args.runs)

    print()
    print("One scan: the selection the periodic task runs, beside a bare indexed SELECT of the same rows")
    header = (
        f"{'customers':>9}  {'situation':<36}{'due':>5}{'batch':>6}{'bare ms':>9}{'scan ms':>9}{'x bare':>7}"
        f"{'queries':>8}"
    )
    print(header)
    print("-" * len(header))
    for customer_count, (rows, _, _) in results.items():
        for label, due, batch, times, queries, _ in rows:
            bare, scan = times["bare"], times["scan"]
            print(
                f"{customer_count:>9,}  {label:<36}{due:>5}{batch:>6}{bare:>9.3f}{scan:>9.3f}{scan / bare:>7.2f}"
                f"{queries:>8}"
            )
    print(f"Plan: {results[CUSTOMER_COUNTS[-1]][0][0][5]}")
    print()
    print("Whole passes (scan, then claim, send to the in-memory backend, record each email), one worker")
    header = (
        f"{'customers':>9}  {'situation':<36}{'emails':>8}{'sent':>6}{'queries':>8}{'per email':>10}"
        f"{'seconds':>9}{'emails/s':>9}"
    )
    print(header)
    print("-" * len(header))
    for customer_count, (_, passes, quiet) in results.items():
        for label, summary, queries, elapsed in passes:
            per_email = (queries - 1) / summary.scanned if summary.scanned else 0
            rate = summary.scanned / elapsed if elapsed else 0
            print(
                f"{customer_count:>9,}  {label:<36}{summary.scanned:>8}{summary.outcomes['sent']:>6}{queries:>8}"
                f"{per_email:>10.2f}{elapsed:>9.2f}{rate:>9.0f}"
            )
        print(f"{customer_count:>9,}  {'a quiet beat (nothing due)':<36}{0:>8}{quiet:>8}")
    print()
    print(
        f"Median of {args.runs} runs each, scan and bare SELECT taking turns. Queries leave out django-tenants' "
        "SET search_path. Targets: the scan within 2x the bare SELECT; 1,000 emails at 200/s or more; the same "
        "queries per email at 200 and 2,000 customers."
    )


if __name__ == "__main__":
    main()
