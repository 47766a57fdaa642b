"""What the benchmarks share: a throwaway database beside DATABASE_URL's with Django
pointed at it, the statements a piece of work sends, medians of candidates timed in
turns, and, for the page benchmarks, a bare view to compare pages with.

The benchmarks run as scripts (``python benchmarks/<name>.py``) and put the project
root on ``sys.path`` themselves before importing this module. Django is imported
only once a database has been chosen for it."""

import os
import statistics
import time
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

TIME_ZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney")


def database_urls(name):
    """The URL of database ``name`` on DATABASE_URL's server, and of that server's
    ``postgres`` database (to create and drop it from)."""
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


@contextmanager
def throwaway_database(name, *, keep=False):
    """A fresh, empty database ``name`` with Django set up on it; dropped on the way
    out unless ``keep``."""
    bench_url, maintenance_url = database_urls(name)
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


def print_table(labels, results, sizes, noun):
    """One line per page: at each size its median ms, that over the bare view's, and
    its queries; then whether the queries are the same at every size. ``results``
    maps (label, size) to (ms, queries, SET search_path statements). Returns the
    distinct counts of SET search_path seen."""
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
            line += f"{ms:>9.2f}{ms / results[BARE, size][0]:>8.2f}{queries:>9}"
        same = len({results[label, size][1] for size in sizes}) == 1
        print(line + f"{'yes' if same else 'NO':>14}")
    return sorted({results[label, size][2] for label in labels for size in sizes})


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
