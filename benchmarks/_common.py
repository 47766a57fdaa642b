"""What the benchmarks share: a throwaway database beside DATABASE_URL's with Django
pointed at it, the statements a piece of work sends, and medians of candidates
timed in turns.

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
