"""Reading rows for less: statements that name every table with its schema, and
timestamps read by psycopg's compiled loader.

django-tenants sends ``SET search_path`` before a cursor's first statement whenever
the schema was changed since it last set it (every request and every ``with
customer:`` changes it): a round trip of its own, as long as a small query. A
statement whose tables are all written ``"public".table`` reads the same whatever
the search path is, so it can skip it (the API's token check, the sender's scans).

Django reads every ``timestamptz`` through a loader of its own written in Python
(to label the result with the connection's time zone), which costs a list's page
more than its query: a few microseconds a value, two to four values a row. The
connection's session is in that same zone (Django sets it when it connects), so
psycopg's compiled loader gives the same datetimes, in the same zone."""

from contextlib import contextmanager

import psycopg
from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django_tenants.utils import get_public_schema_name

PUBLIC = connection.ops.quote_name(get_public_schema_name())
TIMESTAMPTZ = psycopg.adapters.types["timestamptz"].oid
# psycopg's own loader (the compiled one when psycopg[binary] is installed).
COMPILED_TIMESTAMPTZ_LOADER = psycopg.adapters.get_loader(TIMESTAMPTZ, psycopg.pq.Format.TEXT)


def public_table(model) -> str:
    """``model``'s table named with its schema: ``"public"."app_model"``."""
    return f"{PUBLIC}.{connection.ops.quote_name(model._meta.db_table)}"


def read_timestamps_compiled(cursor) -> None:
    """Read this (Django) cursor's timestamptz columns with psycopg's own loader."""
    cursor.cursor.adapters.register_loader(TIMESTAMPTZ, COMPILED_TIMESTAMPTZ_LOADER)


def _compiled_timestamps(execute, sql, params, many, context):
    read_timestamps_compiled(context["cursor"])
    return execute(sql, params, many, context)


def compiled_timestamps():
    """A block whose queries read timestamps with psycopg's own loader."""
    return connection.execute_wrapper(_compiled_timestamps)


@contextmanager
def schema_qualified_cursor():
    """A cursor without django-tenants' ``SET search_path`` before it, for SQL that
    names each table with its schema (``PUBLIC``). Skipped through django-tenants'
    own guard against setting the path while it sets it; the next ordinary cursor
    sets the path as usual."""
    guarded = hasattr(connection, "_setting_search_path")
    previous = getattr(connection, "_setting_search_path", False)
    if guarded:
        connection._setting_search_path = True
    try:
        cursor = connection.cursor()
    finally:
        if guarded:
            connection._setting_search_path = previous
    with cursor:
        read_timestamps_compiled(cursor)
        yield cursor


class _PreparedCursor(ServerBindingCursor):
    def execute(self, query, params=None, **kwargs):
        super().execute(query, params, prepare=True)
        if connection.queries_logged:
            # Django's log reads the statement sent, which psycopg leaves unset for a prepared one.
            self._query = self._convert_query(query, params)
        return self


@contextmanager
def prepared_cursor():
    """A cursor like ``schema_qualified_cursor``'s whose statements PostgreSQL keeps
    prepared on the connection (parameters bound on the server), for SQL sent again
    and again with other parameters: parsed and, once PostgreSQL finds its generic
    plan as good, planned once. Planning took as long as running a list's page.
    Django's wrapper all the same, so execute wrappers see its statements."""
    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:  # Django's "never": only these, by prepare=True
        connection.connection.prepare_threshold = 2**31
    with connection.wrap_database_errors:
        cursor = connection._prepare_cursor(_PreparedCursor(connection.connection))  # noqa: SLF001 (as connection.cursor())
    with cursor:
        read_timestamps_compiled(cursor)
        yield cursor
