"""Thousands of customer schemas: creating a customer, ``migrate_schemas`` with nothing
to apply, one new tenant migration, and the partner's pages, at 2,000 customers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/many_tenants.py

Creates a throwaway database ``licences_bench_tenants`` on the server named by
DATABASE_URL (dropped at the end unless ``--keep``) and runs ``manage.py
migrate_schemas`` on it (the public schema and the template schema). Then, in order:

1. Creates 2,000 customers one by one with ``customers.services.create_customer``, the
   product's own path (each schema copied from the template), timing each. Customers
   16-20 and 1,996-2,000 are created the way django-tenants does without a template,
   migrating a fresh schema: the yardstick, measured at the same counts.
   Each customer gets three orders (requested; assigned, expiring in 10 days; assigned,
   expiring in 200 days), public rows inserted with SQL.
2. At 20 customers and at 2,000: the partner's Company, Requested Orders and Upcoming
   expiries pages, their queries and median server time through Django's test Client,
   beside a bare one-query view.
3. At 2,000: ``manage.py migrate_schemas`` with nothing to apply (a subprocess, as an
   operator runs it), beside django-tenants' own ``--executor=standard``.
4. One new tenant migration (an index on learners, from a copy of learners' migrations
   plus one, through MIGRATION_MODULES in a settings module written to a temporary
   folder) applied by ``manage.py migrate_schemas`` to the 2,000 schemas and the
   template, with its peak memory per process after its first schema and after its
   last; then a customer created after it, whose schema must have the new index. The
   yardstick: django-tenants' ``--executor=multiprocessing`` (2 processes) applying a
   second such migration to the same schemas.

Targets (the issue): nothing to apply under 60 s; the new migration under 3 minutes
with memory that does not grow per schema; a new customer under 0.3 s and flat as the
count grows; the pages' queries the same at 2,000 customers as at 20.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import (  # noqa: E402
    BARE,
    TIME_ZONES,
    count_queries,
    database_urls,
    install_urls,
    measure_pages,
    print_table,
    throwaway_database,
)

BENCH_DATABASE = "licences_bench_tenants"
CUSTOMERS = 2_000
EARLY = 20
YARDSTICK_EACH = 5  # customers made the django-tenants way at each end
NEW_INDEX = "bench_learner_created_idx"
SECOND_INDEX = "bench_learner_deactivated_idx"


# --- manage.py in a subprocess, as an operator runs it ------------------------------------


class Run:
    def __init__(self, seconds, peak_mib, output, code):
        self.seconds, self.peak_mib, self.output, self.code = seconds, peak_mib, output, code

    def line(self, start):
        """The first output line starting with ``start``, or ''."""
        return next((line for line in self.output.splitlines() if line.startswith(start)), "")


def manage(*args, settings="config.test_settings", pythonpath=None, log=None) -> Run:
    """``manage.py ARGS`` on the benchmark's database: wall time, the peak memory of
    its largest process (workers included), its output (also written to ``log``)."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=settings, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (pythonpath, ROOT) if p)
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as output:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, stdout=output, stderr=output
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read()
    if log is not None:
        Path(log).write_text(text)
    return Run(seconds, usage.ru_maxrss / 1024, text, process.returncode)


def require(run: Run, what: str) -> Run:
    if run.code != 0:
        print(run.output[-3000:])
        raise SystemExit(f"{what} failed with exit code {run.code}")
    return run


# --- One more tenant migration, out of the source tree -------------------------------------

MIGRATION = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("learners", "{previous}")]
    operations = [migrations.AddIndex(model_name="learner", index=models.Index(fields=["{field}"], name="{name}"))]
"""


def migrations_with(folder: Path, package: str, extra: list[tuple[str, str, str]]) -> str:
    """A settings module in ``folder`` whose learners migrations are the real ones
    plus ``extra`` (name, field, index name) AddIndex migrations. Returns its name."""
    target = folder / package / "learners"
    target.mkdir(parents=True)
    (folder / package / "__init__.py").write_text("")
    for source in (ROOT / "learners" / "migrations").glob("*.py"):
        shutil.copy(source, target / source.name)
    previous = max(p.stem for p in target.glob("0*.py"))
    for name, field, index in extra:
        (target / f"{name}.py").write_text(MIGRATION.format(previous=previous, field=field, name=index))
        previous = name
    module = f"{package}_settings"
    (folder / f"{module}.py").write_text(
        "from config.test_settings import *  # noqa: F403\n\n"
        f'MIGRATION_MODULES = {{"learners": "{package}.learners"}}\n'
        "TENANT_MULTIPROCESSING_MAX_PROCESSES = 2\n"
    )
    return module


def index_count(name):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s", [name])
        return cursor.fetchone()[0]


# --- The world -------------------------------------------------------------------------------


def make_partner():
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


def create_customers(partner, first, last, yardstick):
    """Customers ``first`` to ``last`` through create_customer; the numbers in
    ``yardstick`` with the template out of use, so their schemas are migrated.
    Returns {number: seconds}."""
    from unittest import mock

    from customers.services import create_customer

    seconds = {}
    for n in range(first, last + 1):
        name, time_zone = f"Customer {n:04d}", TIME_ZONES[n % len(TIME_ZONES)]
        if n in yardstick:
            # No template, and django-tenants' own standard executor for the migration.
            with (
                mock.patch("customers.schemas.copy_template", return_value=False),
                mock.patch.dict(os.environ, {"EXECUTOR": "standard"}),
            ):
                started = time.perf_counter()
                create_customer(name=name, partner=partner, time_zone=time_zone)
        else:
            started = time.perf_counter()
            create_customer(name=name, partner=partner, time_zone=time_zone)
        seconds[n] = time.perf_counter() - started
        if n % 250 == 0:
            print(f"  {n:,} customers", flush=True)
    return seconds


def add_orders(manager, after_id):
    """Three orders for each customer with an id above ``after_id``: one requested,
    one assigned and expiring in 10 days (Upcoming expiries), one in 200 days."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO licences_licenceorder
                (customer_id, quantity, status, allocated_count, requested_at, requested_by_id,
                 assigned_at, assigned_by_id, expires_at)
            SELECT c.id, 10 + c.id %% 90, o.status, 0, now() - interval '400 days' + o.expires_in, %(manager)s,
                   CASE WHEN o.status = 'assigned' THEN now() - interval '365 days' + o.expires_in END,
                   CASE WHEN o.status = 'assigned' THEN %(manager)s END,
                   CASE WHEN o.status = 'assigned' THEN now() + o.expires_in END
            FROM customers_customer c,
                 (VALUES ('requested', interval '0 days'), ('assigned', interval '10 days'),
                         ('assigned', interval '200 days')) AS o(status, expires_in)
            WHERE c.id > %(after)s
            """,
            {"manager": manager.pk, "after": after_id},
        )
        cursor.execute("ANALYZE")


def bare_view(request):
    from django.http import HttpResponse

    from licences.models import LicenceOrder

    latest = LicenceOrder.objects.order_by("-requested_at").values_list("pk", flat=True).first()
    return HttpResponse(f"latest order: {latest}")


PAGES = [
    (BARE, None),
    ("Company", "licences:companies"),
    ("Requested Orders", "licences:partner_orders"),
    ("Upcoming expiries", "notifications:upcoming_expiries"),
]


def measure_partner_pages(client, runs, size, results):
    from django.urls import reverse

    urls = {label: "/bench/bare/" if name is None else reverse(name) for label, name in PAGES}
    times = measure_pages(client, list(urls.values()), runs)
    for label, url in urls.items():
        results[label, size] = (times[url], *count_queries(client, url))


# --- The run ----------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=CUSTOMERS, help="customers to create (default 2,000)")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page (median reported)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="only create the customers and measure the pages (no migrate_schemas runs): to iterate on creation",
    )
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DATABASE} database afterwards")
    args = parser.parse_args()

    os.environ["ALLOWED_HOSTS"] = "testserver"  # the test Client's host
    os.environ["DATABASE_URL"] = database_urls(BENCH_DATABASE)[0]  # for the manage.py subprocesses
    with throwaway_database(BENCH_DATABASE, keep=args.keep), tempfile.TemporaryDirectory() as folder:
        run(args, Path(folder))


def run(args, folder):
    from django.db import connection
    from django.test import Client

    from customers.models import Customer

    total = args.customers
    yardstick = set(range(EARLY - YARDSTICK_EACH + 1, EARLY + 1)) | set(range(total - YARDSTICK_EACH + 1, total + 1))

    started = time.perf_counter()
    require(manage("migrate_schemas", "--noinput"), "migrate_schemas on the empty database")
    print(f"migrate_schemas on the empty database (public and template): {time.perf_counter() - started:.1f}s")

    partner, manager = make_partner()
    install_urls(bare_view)
    client = Client()
    client.force_login(manager)
    pages = {}

    print(f"Creating {EARLY} customers ...", flush=True)
    seconds = create_customers(partner, 1, EARLY, yardstick)
    add_orders(manager, after_id=0)
    measure_partner_pages(client, args.runs, EARLY, pages)
    last_id = Customer.objects.order_by("-id").values_list("id", flat=True).first()

    print(f"Creating {total - EARLY:,} more customers ...", flush=True)
    started = time.perf_counter()
    seconds |= create_customers(partner, EARLY + 1, total, yardstick)
    print(f"  in {time.perf_counter() - started:.0f}s")
    add_orders(manager, after_id=last_id)
    measure_partner_pages(client, args.runs, total, pages)
    if args.quick:
        report_creation(total, yardstick, seconds, pages, args.runs)
        return
    connection.close()  # the subprocesses' turn

    print("migrate_schemas with nothing to apply ...", flush=True)
    ours_noop = require(manage("migrate_schemas", "--noinput"), "migrate_schemas")
    stock_noop = require(
        manage("migrate_schemas", "--noinput", "--executor=standard", log=folder / "stock_noop.log"),
        "migrate_schemas --executor=standard",
    )

    print("One new tenant migration ...", flush=True)
    first = migrations_with(folder, "bench_one", [("0008_bench_index", "created_at", NEW_INDEX)])
    ours_apply = require(
        manage("migrate_schemas", "--noinput", "--tenant", settings=first, pythonpath=folder), "the new migration"
    )
    ours_indexed = index_count(NEW_INDEX)
    started = time.perf_counter()
    from customers.services import create_customer

    after = create_customer(name="Customer after the migration", partner=partner)
    after_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = %s AND indexname = %s", [after.schema_name, NEW_INDEX]
        )
        after_indexed = cursor.fetchone()[0] == 1
    after.delete(force_drop=True)
    connection.close()

    second = migrations_with(
        folder,
        "bench_two",
        [("0008_bench_index", "created_at", NEW_INDEX), ("0009_bench_index", "deactivated_at", SECOND_INDEX)],
    )
    stock_apply = require(
        manage(
            "migrate_schemas", "--noinput", "--tenant", "--executor=multiprocessing",
            settings=second, pythonpath=folder, log=folder / "stock_apply.log",
        ),
        "migrate_schemas --executor=multiprocessing",
    )  # fmt: skip
    stock_indexed = index_count(SECOND_INDEX)

    report(args, total, yardstick, seconds, pages, ours_noop, stock_noop, ours_apply, stock_apply)
    print()
    print(f"Schemas with the new index after our run: {ours_indexed:,} (the customers and the template).")
    print(f"After django-tenants' multiprocessing run: {stock_indexed:,} with the second index (the customers).")
    print(
        f"A customer created after the migration: {after_seconds:.3f}s, its schema "
        f"{'has' if after_indexed else 'LACKS'} the new index (copied from the template)."
    )


def summary(values):
    return f"{statistics.median(values):.3f} s median, {max(values):.3f} s slowest"


def report(args, total, yardstick, seconds, pages, ours_noop, stock_noop, ours_apply, stock_apply):
    report_creation(total, yardstick, seconds, pages, args.runs)
    report_migrations(total, ours_noop, stock_noop, ours_apply, stock_apply)


def report_creation(total, yardstick, seconds, pages, runs):
    ours = {n: s for n, s in seconds.items() if n not in yardstick}
    ranges = [(1, EARLY), (total // 2 - 9, total // 2 + 10), (total - EARLY + 1, total)]
    print()
    print("Creating a customer (create_customer, schema copied from the template); target < 0.3 s, flat")
    for low, high in ranges:
        values = [s for n, s in ours.items() if low <= n <= high]
        print(f"  customers {low:,}-{high:,}: {summary(values)}")
    low_stock = [seconds[n] for n in sorted(yardstick)[:YARDSTICK_EACH]]
    high_stock = [seconds[n] for n in sorted(yardstick)[YARDSTICK_EACH:]]
    print(
        f"  yardstick, migrating a fresh schema (django-tenants without a template): "
        f"{statistics.median(low_stock):.3f} s at {EARLY}, {statistics.median(high_stock):.3f} s at {total:,} (median of {YARDSTICK_EACH})"
    )

    search_paths = print_table([label for label, _ in PAGES], pages, (EARLY, total), "customers")
    print(
        f"  Partner pages, median of {runs} requests; queries leave out SET search_path ({'/'.join(map(str, search_paths))})."
    )
    print("  Target: the same queries at 2,000 customers as at 20.")


def report_migrations(total, ours_noop, stock_noop, ours_apply, stock_apply):

    memory = re.search(r"(\d+) MiB after its first schema, (\d+) MiB after its last", ours_apply.output)
    print()
    print(f"{'':<58}{'ours':>12}{'django-tenants':>18}{'target':>12}")
    print(
        f"{f'migrate_schemas, nothing to apply, {total:,} schemas':<58}{ours_noop.seconds:>11.1f}s"
        f"{stock_noop.seconds:>17.1f}s{'< 60 s':>12}"
    )
    print("  (django-tenants: --executor=standard)")
    print(
        f"{f'one new tenant migration (an index), {total:,} schemas':<58}{ours_apply.seconds:>11.1f}s"
        f"{stock_apply.seconds:>17.1f}s{'< 180 s':>12}"
    )
    print("  (django-tenants: --executor=multiprocessing, 2 processes)")
    print(
        f"{'  peak memory of the largest process':<58}{ours_apply.peak_mib:>9.0f} MiB{stock_apply.peak_mib:>14.0f} MiB"
    )
    if memory:
        print(
            f"  ours, per worker: {memory[1]} MiB after its first schema, {memory[2]} MiB after its last "
            "(target: no growth per schema)"
        )
    print()
    for run in (ours_noop, ours_apply):
        for start in ("Customer schemas:", "Migrated", "Nothing to migrate"):
            if run.line(start):
                print(f"  ours said: {run.line(start)}")


if __name__ == "__main__":
    main()
