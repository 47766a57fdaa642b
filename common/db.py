"""Statements that name every table with its schema.

django-tenants sends ``SET search_path`` before every cursor's first statement: a
round trip of its own, as long as a small query. A statement whose tables are all
written ``"public".table`` reads the same whatever the search path is, so it can
skip it (as notifications.services does for its scan)."""

from contextlib import contextmanager

from django.db import connection
from django_tenants.utils import get_public_schema_name

PUBLIC = connection.ops.quote_name(get_public_schema_name())


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
        yield cursor
