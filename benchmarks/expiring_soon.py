"""The Expiring Soon tab at 1,000 and 100,000 learners, Select All + Renew Early of
50,000 learners, and the CSV path (Import Allocation on Expiring Soon) of 100,000
rows, each beside a floor measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/licences .venv/bin/python benchmarks/expiring_soon.py

Creates a throwaway database ``licences_bench_expiring`` (dropped at the end unless
``--keep``) with one customer whose learners (``north…`` and ``south…`` addresses
in turn) hold seats of four orders expiring in 3, 20, 50 and 80 days, a quarter
each (a mix of windows), and an order expiring in 400 days with a free seat for
every learner.

1. The tab (first page at 30 days, 7 and 90 days, a search, a deep page) through
   Django's test Client and every middleware, beside a bare one-query view, with
   its queries counted, at 1,000 and at 100,000 learners. Target: within 3x the bare
   view, the same queries at both sizes.
2. ``seats.renew_early(select_all=True, search="north", days=90)``: 50,000 learners
   moved onto the later order, beside one ``INSERT … SELECT`` of the same 50,000
   allocation rows into a copy of the allocations table. Target: within 3x.
3. The CSV path of a 100,000-row file: ``preview_import_allocation`` and
   ``import_allocation`` (Renew Early, 90 days), beside ``COPY`` of the 100,000
   allocation rows it writes into a copy of the allocations table (the floor
   renewal.py uses); ``COPY`` of the file's own rows into a learners-like table is
   printed too. Target: within 3x.

Timed runs are rolled back (best of five); peak Python memory (tracemalloc) of each
service call is measured in a separate run. Target: under 250 MB.
"""

import os
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import (  # noqa: E402
    BARE,
    RUNS,
    Rollback,
    best_time,
    count_queries,
    insert_learners,
    install_urls,
    measure_pages,
    page_benchmark,
    peak_memory,
    print_table,
    timed,
)

BENCH_DATABASE = "licences_bench_expiring"
SIZES = (1_000, 100_000)
WINDOW_DAYS = (3, 20, 50, 80)


def fill_world():
    """A partner, the customer, its manager, the four expiring orders and the later one."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import Role, User
    from customers.services import create_customer
    from licences.models import LicenceOrder, OrderStatus
    from partners.models import Partner

    partner = Partner.objects.create(name="Bench Partner")
    customer = create_customer(name="Bench Customer", partner=partner, schema_name="bench")
    manager = User.objects.create(
        email="manager@bench.example", role=Role.CUSTOMER_MANAGER, customer=customer, password=make_password("x")
    )
    now = timezone.now()

    def order(expires_at, quantity):
        return LicenceOrder.objects.create(
            customer=customer,
            quantity=quantity,
            status=OrderStatus.ASSIGNED,
            requested_by=manager,
            requested_at=expires_at - timedelta(days=366),
            assigned_at=expires_at - timedelta(days=365),
            expires_at=expires_at,
        )

    expiring = [order(now + timedelta(days=d), max(SIZES) // 4) for d in WINDOW_DAYS]
    later = order(now + timedelta(days=400), max(SIZES))
    return customer, manager, expiring, later


def insert_seats(expiring, first, last):
    """Learners ``first`` to ``last``, each holding a seat of one of the expiring
    orders in turn, counted on the orders."""
    from django.db import connection
    from django.db.models import F

    from licences.models import LicenceOrder

    insert_learners("bench", first, last)
    ids = [o.pk for o in expiring]
    expiries = [o.expires_at for o in expiring]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO bench.learners_allocation
                (learner_id, order_id, expires_at, allocated_at, allocated_by_id, ended_at, end_reason)
            SELECT l.id, (%s::bigint[])[l.id %% 4 + 1], (%s::timestamptz[])[l.id %% 4 + 1], now(), NULL, NULL, ''
            FROM bench.learners_learner l WHERE l.id BETWEEN %s AND %s
            """,
            [ids, expiries, first, last],
        )
        cursor.execute("ANALYZE bench.learners_learner, bench.learners_allocation")
    per_order = (last - first + 1) // 4
    LicenceOrder.objects.filter(pk__in=ids).update(allocated_count=F("allocated_count") + per_order)


def bare_view(request):
    from django.http import HttpResponse

    from learners.models import Learner

    first = Learner.objects.order_by("email").values_list("pk", flat=True).first()
    return HttpResponse(f"first learner: {first}")


PAGES = [
    (BARE, "/bench/bare/"),
    ("Expiring Soon: first page (30 days)", "/licences/expiring/"),
    ("  7 days", "/licences/expiring/?days=7"),
    ("  90 days", "/licences/expiring/?days=90"),
    ("  search 'north0', 90 days", "/licences/expiring/?days=90&q=north0"),
    ("  search one learner's address", "/licences/expiring/?days=90&q=north000046"),
    ("  page 20, 90 days", "/licences/expiring/?days=90&page=20"),
]


def insert_select_floor(later, rows):
    from django.db import connection

    def action():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE floor_alloc (LIKE bench.learners_allocation INCLUDING ALL)")
            started = time.perf_counter()
            cursor.execute(
                """
                INSERT INTO floor_alloc (learner_id, order_id, expires_at, allocated_at, allocated_by_id, ended_at, end_reason)
                SELECT a.learner_id, %s, %s, now(), 1, NULL, ''
                FROM bench.learners_allocation a JOIN bench.learners_learner l ON l.id = a.learner_id
                WHERE l.email LIKE '%%north%%' AND a.ended_at IS NULL
                """,
                [later.pk, later.expires_at],
            )
            assert cursor.rowcount == rows, cursor.rowcount
            return time.perf_counter() - started

    return min(timed(action)[1] for _ in range(RUNS))


def copy_floors(csv_bytes, later, learners):
    """COPY of the CSV's rows into a learners-like table, and of the allocation rows a
    renewal of every learner writes into a copy of the allocations table."""
    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.now().isoformat()
    allocation_rows = "".join(
        f"{i}\t{later.pk}\t{later.expires_at.isoformat()}\t{now}\t1\t\\N\t\n" for i in range(1, learners + 1)
    ).encode()

    def copy_into(create, copy_sql, data):
        def once():
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE bench.learners_allocation, bench.learners_learner")
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(create)
                    started = time.perf_counter()
                    with cursor.copy(copy_sql) as copy:
                        copy.write(data)
                    elapsed = time.perf_counter() - started
                    raise Rollback
            except Rollback:
                pass
            return elapsed

        return min(once() for _ in range(RUNS))

    csv_floor = copy_into(
        "CREATE TABLE floor_copy (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
        "email varchar(254) NOT NULL UNIQUE, name varchar(150) NOT NULL)",
        "COPY floor_copy (email, name) FROM STDIN (FORMAT csv, HEADER true)",
        csv_bytes,
    )
    allocation_floor = copy_into(
        "CREATE TABLE floor_alloc (LIKE bench.learners_allocation INCLUDING ALL)",
        "COPY floor_alloc (learner_id, order_id, expires_at, allocated_at, allocated_by_id, ended_at, end_reason) "
        "FROM STDIN",
        allocation_rows,
    )
    return csv_floor, allocation_floor


def line(label, seconds, floor, memory=None):
    text = f"  {label:<46} {seconds:7.3f} s   floor {floor:6.3f} s   {seconds / floor:4.1f}x floor"
    if memory is not None:
        text += f"   peak {memory:6.2f} MB"
    return text


def main():
    page_benchmark(__doc__, BENCH_DATABASE, run, runs=30)


def run(args):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from learners import imports, reads, seats
    from learners.models import CsvUpload

    call_command("migrate_schemas", shared=True, verbosity=0)
    install_urls(bare_view)
    customer, manager, expiring, later = fill_world()
    client = Client()
    client.force_login(manager)

    results, inserted = {}, 0
    for size in SIZES:
        started = time.perf_counter()
        insert_seats(expiring, inserted + 1, size)
        inserted = size
        print(f"{size:,} learners inserted in {time.perf_counter() - started:.1f}s; timing the tab ...", flush=True)
        times = measure_pages(client, [url for _, url in PAGES], args.runs)
        for label, url in PAGES:
            results[label, size] = (times[url], *count_queries(client, url))
    search_paths = print_table([label for label, _ in PAGES], results, SIZES, "learners")
    print(f"Median of {args.runs} requests per page; queries leave out SET search_path ({search_paths} per request).")

    learners = max(SIZES)
    connection.set_tenant(customer)
    with customer, connection.cursor() as cursor:
        cursor.execute("SELECT email, name FROM bench.learners_learner ORDER BY id")
        rows = cursor.fetchall()
    csv_bytes = ("Email,Name\r\n" + "".join(f"{email},{name}\r\n" for email, name in rows)).encode()
    del rows
    upload = imports.store_upload(
        customer, SimpleUploadedFile("bench.csv", csv_bytes), CsvUpload.Purpose.RENEW_EARLY, acting_user=manager
    )

    def select_all():
        return seats.renew_early(customer, acting_user=manager, select_all=True, search="north", days=90)

    def preview():
        return imports.preview_import_allocation(customer, upload, 0, days=90)

    def renew():
        return imports.import_allocation(customer, upload, 0, acting_user=manager, days=90)

    print("\nFloors (PostgreSQL alone, same rows) ...", flush=True)
    insert_seconds = insert_select_floor(later, learners // 2)
    csv_copy_seconds, copy_seconds = copy_floors(csv_bytes, later, learners)
    print("Select All + Renew Early ...", flush=True)
    select_memory = peak_memory(select_all)
    select_seconds, outcome = best_time(select_all)
    assert outcome.allocated == learners // 2, outcome
    print("CSV preview and Renew Early ...", flush=True)
    preview_memory = peak_memory(preview)
    preview_seconds, result = best_time(preview)
    assert result.counts == {"renew": learners}, result.counts
    renew_memory = peak_memory(renew)
    renew_seconds, result = best_time(renew)
    assert result.counts == {"renew": learners}, result.counts
    with customer:
        assert reads.expiring_learners("", 90).count() == learners  # every run was rolled back
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print()
    print(
        f"Renew Early at {learners:,} learners (PostgreSQL {connection.cursor().connection.info.parameter_status('server_version')}, {os.cpu_count()} CPUs)"
    )
    print(line("Select All + Renew Early, 50,000 learners", select_seconds, insert_seconds, select_memory))
    print(line("CSV preview, 100,000 rows", preview_seconds, copy_seconds, preview_memory))
    print(line("CSV Renew Early, 100,000 rows (rolled back)", renew_seconds, copy_seconds, renew_memory))
    print("  floors: one INSERT … SELECT of the 50,000 rows; COPY of the 100,000 allocation rows written")
    print(f"  (COPY of the CSV file's own 100,000 rows into a learners-like table: {csv_copy_seconds:.3f} s)")
    print(f"  process peak resident memory (whole run, data set-up included): {rss:.0f} MB")
    tab_ok = all(results[label, size][0] <= 3 * results[BARE, size][0] for label, _ in PAGES for size in SIZES) and all(
        len({results[label, size][1] for size in SIZES}) == 1 for label, _ in PAGES
    )
    ok = (
        select_seconds <= 3 * insert_seconds
        and max(preview_seconds, renew_seconds) <= 3 * copy_seconds
        and max(select_memory, preview_memory, renew_memory) < 250
    )
    print("  targets: tab", "met" if tab_ok else "NOT met", "· Renew Early", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
