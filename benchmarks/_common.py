"""What the benchmarks share: a throwaway database beside DATABASE_URL's with Django
pointed at it, the statements a piece of work sends, medians of candidates timed in
turns, and, for the page benchmarks, a bare view to compare pages with.

The benchmarks run as scripts (``python benchmarks/<name>.py``) and put the project
root on ``sys.path`` themselves before importing this module. Django is imported
only once a database has been chosen for it."""

import os
import statistics
import time
import tracemalloc
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

TIME_ZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney")


def database_urls(name):
    """The URL of database ``name`` on DATABASE_URL's server, and of that server's
    ``postgres`` database (to create and drop it from). BENCH_SUFFIX, when set, is
    added to the name, so that two people's runs on one server do not collide."""
    name += os.environ.get("BENCH_SUFFIX", "")
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/licences")
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}")), urlunsplit(parts._replace(path="/postgres"))


def recreate_database(maintenance_url, name):
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def drop_database(maintenance_url, name):
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def setup_django(bench_url):
    os.environ["DATABASE_URL"] = bench_url
    # The real settings, with in-memory email, eager tasks and no HTTPS redirect.
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.test_settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def queue_tasks_only():
    """Background tasks a timed action queues on commit (the lapses' recording after a
    renewal, webhooks) are queued, not run inside it: as in production, where a
    worker runs them. The test settings run them eagerly; this sends them to an
    in-process queue that nothing reads."""
    from config.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"


def page_benchmark(doc: str, database: str, run, *, runs: int, runs_help="timed requests per page (median reported)"):
    """The command line every page benchmark shares: ``--runs`` and ``--keep``, then
    ``run(args)`` in a throwaway ``database``, served to the test Client's host."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=runs, help=runs_help)
    parser.add_argument("--keep", action="store_true", help=f"keep the {database} database afterwards")
    args = parser.parse_args()
    os.environ["ALLOWED_HOSTS"] = "testserver"  # the test Client's host
    with throwaway_database(database, keep=args.keep):
        run(args)


@contextmanager
def throwaway_database(name, *, keep=False):
    """A fresh, empty database ``name`` with Django set up on it; dropped on the way
    out unless ``keep``."""
    bench_url, maintenance_url = database_urls(name)
    name = urlsplit(bench_url).path.lstrip("/")
    print(f"Creating {name} on {urlsplit(bench_url).hostname} ...", flush=True)
    recreate_database(maintenance_url, name)
    setup_django(bench_url)
    try:
        yield
    finally:
        if not keep:
            drop_database(maintenance_url, name)


class QueryCounter:
    """An execute wrapper counting the statements sent, with django-tenants' own
    ``SET search_path`` counted apart (the same plumbing whatever the work)."""

    def __init__(self):
        self.queries = self.search_path = 0

    def __call__(self, execute, sql, params, many, context):
        if sql.startswith("SET search_path"):
            self.search_path += 1
        else:
            self.queries += 1
        return execute(sql, params, many, context)


def median_ms(runs, candidates, *, warm_up=5):
    """Median milliseconds of each of ``candidates`` (name: function), after
    ``warm_up`` untimed calls of each. The candidates take turns, so that other load
    on the machine falls on each alike."""
    samples = {name: [] for name in candidates}
    for function in candidates.values():
        for _ in range(warm_up):
            function()
    for _ in range(runs):
        for name, function in candidates.items():
            start = time.perf_counter()
            function()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


# --- Pages beside a bare view -----------------------------------------------------------

BARE = "bare view, one query"


def install_urls(bare_view, extra=None):
    """The project's URLs plus ``bare_view`` at /bench/bare/: the yardstick, a view
    with the same middleware that runs one query and renders nothing; ``extra`` maps
    more paths to views."""
    from django.conf import settings
    from django.urls import clear_url_caches, path

    from config.urls import urlpatterns

    class BenchURLs:
        """A class, so the resolver can cache it."""

    more = [path(route, view) for route, view in (extra or {}).items()]
    BenchURLs.urlpatterns = [path("bench/bare/", bare_view), *more, *urlpatterns]
    settings.ROOT_URLCONF = BenchURLs
    clear_url_caches()


def count_queries(client, url):
    """(queries, SET search_path statements) of one GET of ``url``."""
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return counter.queries, counter.search_path


def measure_pages(client, urls, runs):
    """Median server time of each URL (through the test Client and every
    middleware); the URLs take turns."""

    def get(url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return median_ms(runs, {url: lambda url=url: get(url) for url in urls})


def print_table(labels, results, sizes, noun, *, yardstick=None):
    """One line per page: at each size its median ms, that over the bare view's, and
    its queries; then whether the queries are the same at every size. ``results``
    maps (label, size) to (ms, queries, SET search_path statements); ``yardstick``
    maps a page's label to the bare view's row it is compared with (BARE when not
    named: a bare view timed in other turns). Returns the distinct counts of SET
    search_path seen."""
    yardstick = yardstick or {}
    print()
    width = 44
    header = f"{'page':<{width}}" + "".join(f"{f'{size:,} {noun}':>26}" for size in sizes) + f"{'same queries':>14}"
    print(header)
    print(f"{'':<{width}}" + "".join(f"{'ms':>9}{'x bare':>8}{'queries':>9}" for _ in sizes))
    print("-" * len(header))
    for label in labels:
        line = f"{label:<{width}}"
        for size in sizes:
            ms, queries, _ = results[label, size]
            line += f"{ms:>9.2f}{ms / results[yardstick.get(label, BARE), size][0]:>8.2f}{queries:>9}"
        same = len({results[label, size][1] for size in sizes}) == 1
        print(line + f"{'yes' if same else 'NO':>14}")
    return sorted({results[label, size][2] for label in labels for size in sizes})


# --- Service calls beside PostgreSQL's floor (renewal.py, expiring_soon.py) ------------------

RUNS = 5


class Rollback(Exception):
    pass


def timed(action, *, rollback=True, schema="bench"):
    """Seconds taken by ``action`` in a transaction, rolled back afterwards. The
    tables are vacuumed first (not timed), so the dead rows a rolled-back run
    leaves behind do not slow the next one down."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {schema}.learners_allocation, {schema}.learners_learner")
    started = time.perf_counter()
    # The actions are durable transactions; marked as Django's TestCase marks its own,
    # this block may hold them, so that each run rolls back with it.
    outer = transaction.atomic()
    outer._from_testcase = True
    try:
        with outer:
            result = action()
            elapsed = time.perf_counter() - started
            if rollback:
                raise Rollback
    except Rollback:
        pass
    else:
        elapsed = time.perf_counter() - started  # the commit (and its deferred checks) included
    return elapsed, result


def best_time(action, *, runs=RUNS, undo=None):
    """The best of ``runs``: on a shared machine, other work only ever adds time.
    With ``undo``, each run commits and ``undo`` (not timed) puts the data back."""
    times = []
    result = None
    for _ in range(runs):
        elapsed, result = timed(action, rollback=undo is None)
        times.append(elapsed)
        if undo is not None:
            undo()
    return min(times), result


def peak_memory(action):
    """Peak Python memory of one run of ``action`` (rolled back), in MB."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    timed(action)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1_048_576


def insert_learners(schema, first, last, *, created="now()"):
    """Learners ``first`` to ``last`` of ``schema``, at ``north…`` and ``south…``
    addresses in turn, in one statement."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {schema}.learners_learner (email, name, status, created_at)
            SELECT CASE WHEN g %% 2 = 0 THEN 'north' ELSE 'south' END || lpad(g::text, 6, '0') || '@bench.example',
                   'Learner ' || g, 'active', {created}
            FROM generate_series(%s::bigint, %s::bigint) AS g
            """,
            [first, last],
        )


def deep_url(client, url):
    """For a URL asking for ``page=N``: the URL a person reaches page N by, following
    Next from the first page (keyset pages carry a cursor; common.pagination). Stops
    at the last page when there are fewer. Other URLs are returned as they are."""
    import html
    import re
    from urllib.parse import parse_qsl, urlencode, urlsplit

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if "page" not in query:
        return url
    pages = int(query.pop("page"))
    current = parts.path + (f"?{urlencode(query)}" if query else "")
    for _ in range(pages - 1):
        found = re.search(r'href="(\?[^"]*)" rel="next"', client.get(current).content.decode())
        if not found:
            break
        current = parts.path + html.unescape(found[1])
    return current


# --- Filling a customer -----------------------------------------------------------------


def bench_customer(partner, schema, name, *, time_zone="Europe/London"):
    """A customer with its own schema and a manager who can sign in (force_login)."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, User
    from customers.services import create_customer

    customer = create_customer(name=name, partner=partner, schema_name=schema, time_zone=time_zone)
    manager = User.objects.create(
        email=f"manager@{schema}.bench", role=Role.CUSTOMER_MANAGER, customer=customer, password=make_password("x")
    )
    return customer, manager


def insert_learners_sql(cursor, schema, first, last):
    """Learners ``first`` to ``last`` of ``schema`` in one statement
    (``learner000001@bench.example``, ...)."""
    cursor.execute(
        f"""
        INSERT INTO {schema}.learners_learner (email, name, status, created_at)
        SELECT 'learner' || lpad(g::text, 6, '0') || '@bench.example', 'Learner ' || g, 'active',
               now() - interval '2 years'
        FROM generate_series(%s::bigint, %s::bigint) AS g
        """,
        [first, last],
    )
