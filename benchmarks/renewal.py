"""Time and peak memory of a 100,000-row CSV renewal (preview and renew) and of
Select All over 50,000 learners, each beside PostgreSQL's own floor for the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/licences .venv/bin/python benchmarks/renewal.py

Creates a throwaway database ``licences_bench_renewal`` on the server named by
DATABASE_URL (dropped at the end unless ``--keep``), migrates it, creates one customer
(its schema migrated) and fills it, with a few SQL statements, with 100,000 learners
whose licences expired yesterday (half of them at ``north…`` addresses, half at
``south…``), and a newly assigned order of 100,000 licences waiting to renew them.

What is measured, through the service functions the views call:

- ``preview_import_allocation`` of a 100,000-row CSV file (the page's review);
- ``import_allocation`` of the same file: all 100,000 learners renewed in one transaction;
- ``renew_expired(select_all=True, search="north")``: Select All over 50,000 learners.

The floors, PostgreSQL alone doing the least work on the same rows:

- CSV: ``COPY`` of the file's 100,000 rows (email, name; format csv) into a table
  with a primary key and a unique index on email, like a learners table;
- Select All: one ``INSERT … SELECT`` of 50,000 allocation rows into a copy of the
  allocations table (same columns and indexes).

Each timing is the best of five runs (other work on a shared machine only ever adds
time), floors alike. Runs that change data are rolled back, so every run starts from
the same state; the committed CSV renewal is timed with its commit (the WAL written
to disk) and compared with a committed COPY, and after each of its runs the data is
put back (not timed).
Peak memory is measured in a separate run under tracemalloc (Python allocations of
the call), and the process's resident high-water mark is printed too. Targets: each
within 3x its floor; peak memory of the import under 250 MB.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import (  # noqa: E402
    Rollback,
    best_time,
    insert_learners,
    peak_memory,
    queue_tasks_only,
    throwaway_database,
    timed,
)

BENCH_DATABASE = "licences_bench_renewal"
LEARNERS = 100_000
RUNS = 5


def fill():
    """One customer, 100,000 learners whose seats expired yesterday, a new order."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from accounts.models import Role, User
    from customers.services import create_customer
    from licences.models import LicenceOrder
    from licences.services import assign_order, request_order
    from partners.models import Partner

    partner = Partner.objects.create(name="Bench Partner")
    manager = User.objects.create_user("pm@bench.example", "x", role=Role.PARTNER_MANAGER, partner=partner)
    customer = create_customer(name="Bench Customer", partner=partner, schema_name="bench")
    old = assign_order(request_order(customer, LEARNERS, acting_user=manager).pk, acting_user=manager)
    expired_at = timezone.now() - timedelta(days=1)
    LicenceOrder.objects.filter(pk=old.pk).update(
        expires_at=expired_at, assigned_at=expired_at - timedelta(days=365), allocated_count=LEARNERS
    )
    new = assign_order(request_order(customer, LEARNERS, acting_user=manager).pk, acting_user=manager)
    insert_learners("bench", 1, LEARNERS)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO bench.learners_allocation
                (learner_id, order_id, expires_at, allocated_at, allocated_by_id, ended_at, end_reason)
            SELECT id, %s, %s, %s, NULL, NULL, '' FROM bench.learners_learner
            """,
            [old.pk, expired_at, expired_at - timedelta(days=300)],
        )
        cursor.execute("ANALYZE bench.learners_learner")
        cursor.execute("ANALYZE bench.learners_allocation")
        cursor.execute("SELECT email, name FROM bench.learners_learner ORDER BY id")
        rows = cursor.fetchall()
    csv_bytes = ("Email,Name\r\n" + "".join(f"{email},{name}\r\n" for email, name in rows)).encode()

    def undo_renewal():
        """Back to the filled state after a committed renewal: the history rows go,
        the current rows get their expired seats back, the new order is unused."""
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM bench.learners_allocation WHERE ended_at IS NOT NULL")
            cursor.execute(
                "UPDATE bench.learners_allocation SET order_id = %s, expires_at = %s, allocated_at = %s, "
                "allocated_by_id = NULL",
                [old.pk, expired_at, expired_at - timedelta(days=300)],
            )
        LicenceOrder.objects.filter(pk=new.pk).update(allocated_count=0)

    return customer, manager, new, csv_bytes, undo_renewal


def hot_updates(action):
    """Of the allocation rows ``action`` updates (rolled back), how many PostgreSQL
    updated in place on their page without writing index entries (HOT updates)."""
    from django.db import connection

    def counted():
        before = allocation_updates(connection)
        action()
        after = allocation_updates(connection)
        return after[0] - before[0], after[1] - before[1]

    return timed(counted)[1]


def allocation_updates(connection):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
            "WHERE schemaname = 'bench' AND relname = 'learners_allocation'"
        )
        return cursor.fetchone() or (0, 0)


def copy_floors(csv_bytes, new_order):
    """COPY of the 100,000 rows: the CSV's rows into a learners-like table, and the
    100,000 allocation rows a renewal writes into a copy of the allocations table."""
    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.now().isoformat()
    allocation_rows = "".join(
        f"{learner_id}\t{new_order.pk}\t{new_order.expires_at.isoformat()}\t{now}\t1\t\\N\t\n"
        for learner_id in range(1, LEARNERS + 1)
    ).encode()

    def copy_into(create, copy_sql, data, *, commit=False):
        """Best time of COPY into a table made in the same transaction, its commit
        included with ``commit`` (the table is dropped afterwards)."""
        table = create.split()[2]

        def once():
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE bench.learners_allocation, bench.learners_learner")
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(create)
                    started = time.perf_counter()
                    with cursor.copy(copy_sql) as copy:
                        view, chunk = memoryview(data), 1 << 20
                        for offset in range(0, len(view), chunk):
                            copy.write(view[offset : offset + chunk])
                    elapsed = time.perf_counter() - started
                    if not commit:
                        raise Rollback
                elapsed = time.perf_counter() - started
            except Rollback:
                pass
            finally:
                if commit:
                    with connection.cursor() as cursor:
                        cursor.execute(f"DROP TABLE IF EXISTS {table}")
            return elapsed

        return min(once() for _ in range(RUNS))

    csv_floor = copy_into(
        "CREATE TABLE floor_copy (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
        "email varchar(254) NOT NULL UNIQUE, name varchar(150) NOT NULL)",
        "COPY floor_copy (email, name) FROM STDIN (FORMAT csv, HEADER true)",
        csv_bytes,
    )
    allocation_copy = (
        "CREATE TABLE floor_alloc (LIKE bench.learners_allocation INCLUDING ALL)",
        "COPY floor_alloc (learner_id, order_id, expires_at, allocated_at, allocated_by_id, ended_at, end_reason) "
        "FROM STDIN",
        allocation_rows,
    )
    allocation_floor = copy_into(*allocation_copy)
    committed_floor = copy_into(*allocation_copy, commit=True)
    return csv_floor, allocation_floor, committed_floor


def insert_select_floor(new_order):
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
                WHERE l.email LIKE '%%north%%'
                """,
                [new_order.pk, new_order.expires_at],
            )
            assert cursor.rowcount == LEARNERS // 2
            return time.perf_counter() - started

    return min(timed(action)[1] for _ in range(RUNS))


def line(label, seconds, floor, memory=None):
    ratio = seconds / floor if floor else float("nan")
    text = f"  {label:<44} {seconds:7.3f} s   floor {floor:6.3f} s   {ratio:4.1f}x floor"
    if memory is not None:
        text += f"   peak {memory:6.2f} MB"
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    with throwaway_database(BENCH_DATABASE, keep=args.keep):
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.core.management import call_command
        from django.db import connection

        from learners import imports, reads, seats
        from learners.models import CsvUpload

        call_command("migrate_schemas", shared=True, verbosity=0)
        queue_tasks_only()  # the lapses' recording a committed renewal queues: a worker's, not timed here
        print(f"Filling one customer schema with {LEARNERS:,} learners whose licences expired…", flush=True)
        started = time.perf_counter()
        customer, manager, new_order, csv_bytes, undo_renewal = fill()
        print(f"  done in {time.perf_counter() - started:.1f} s; CSV file {len(csv_bytes) / 1_048_576:.1f} MB")
        upload = imports.store_upload(
            customer,
            SimpleUploadedFile("bench.csv", csv_bytes),
            CsvUpload.Purpose.IMPORT_ALLOCATION,
            acting_user=manager,
        )
        connection.set_tenant(customer)

        def preview():
            return imports.preview_import_allocation(customer, upload, 0)

        def renew():
            return imports.import_allocation(customer, upload, 0, acting_user=manager)

        def select_all():
            return seats.renew_expired(customer, acting_user=manager, select_all=True, search="north")

        print("Floors (PostgreSQL alone, same rows)…", flush=True)
        csv_copy_seconds, copy_seconds, committed_copy_seconds = copy_floors(csv_bytes, new_order)
        insert_seconds = insert_select_floor(new_order)

        print("CSV preview…", flush=True)
        preview_memory = peak_memory(preview)
        preview_seconds, result = best_time(preview)
        assert result.counts == {"renew": LEARNERS}, result.counts

        print("Select All…", flush=True)
        select_memory = peak_memory(select_all)
        select_seconds, outcome = best_time(select_all)
        assert outcome.allocated == LEARNERS // 2, outcome

        print("CSV renewal…", flush=True)
        renew_memory = peak_memory(renew)
        renew_seconds, result = best_time(renew)
        updated, hot = hot_updates(renew)
        assert result.counts == {"renew": LEARNERS}, result.counts
        committed_seconds, _ = best_time(renew, undo=undo_renewal)
        renew()  # and once more, left committed, to check its result
        with customer:
            assert not reads.expired_learners().exists()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        print()
        print(f"Renewal benchmark: one customer schema, {LEARNERS:,} learners with expired licences")
        print(
            f"  PostgreSQL: {connection.cursor().connection.info.parameter_status('server_version')}, {os.cpu_count()} CPUs"
        )
        print(line("CSV preview, 100,000 rows", preview_seconds, copy_seconds, preview_memory))
        print(line("CSV renew, 100,000 rows (rolled back)", renew_seconds, copy_seconds, renew_memory))
        print(line("CSV renew, 100,000 rows (committed)", committed_seconds, committed_copy_seconds))
        print(line("Select All, 50,000 learners", select_seconds, insert_seconds, select_memory))
        print(
            "  floors: COPY of the 100,000 allocation rows a renewal writes, into a copy of the allocations "
            "table\n          (rolled back, or committed for the committed renewal);\n"
            "          one INSERT … SELECT of 50,000 allocation rows into the same"
        )
        print(f"  renewed rows updated in place without index writes (HOT): {hot:,} of {updated:,}")
        print(f"  (COPY of the CSV file's own 100,000 rows into a learners-like table: {csv_copy_seconds:.3f} s)")
        print(f"  process peak resident memory (whole run, data set-up included): {rss:.0f} MB")
        ok = (
            max(preview_seconds, renew_seconds) <= 3 * copy_seconds
            and committed_seconds <= 3 * committed_copy_seconds
            and select_seconds <= 3 * insert_seconds
            and max(preview_memory, renew_memory) < 250
        )
        print("  targets (3x floor, import under 250 MB):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
