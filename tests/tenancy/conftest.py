"""Helpers for the tenancy tests: what a schema is made of, what it has recorded as
applied, and a way to put a schema one migration behind (inside the test's
transaction, so the next test finds it as it was)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.schemas import TEMPLATE_SCHEMA, migrations_on_disk

TEMPLATE = TEMPLATE_SCHEMA
LATEST = ("learners", "0007_learner_name_folded")  # adds learners_learner.name_folded

STRUCTURE = """
SELECT 'column', c.relname || '.' || a.attname,
       concat_ws(' ', format_type(a.atttypid, a.atttypmod), 'not null=' || a.attnotnull,
                 'identity=' || a.attidentity::text, 'generated=' || a.attgenerated::text,
                 'default=' || pg_get_expr(d.adbin, d.adrelid), 'storage=' || a.attstorage::text,
                 'collation=' || a.attcollation::regcollation::text, 'position=' || a.attnum)
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'relation', relname, concat_ws(' ', relkind::text, relpersistence::text, reloptions::text)
  FROM pg_class WHERE relnamespace = %(schema)s::regnamespace
UNION ALL
SELECT 'constraint', conname, concat_ws(' ', contype::text, conrelid::regclass::text, pg_get_constraintdef(oid))
  FROM pg_constraint WHERE connamespace = %(schema)s::regnamespace
UNION ALL
SELECT 'index', indexname, replace(indexdef, ' ON ' || %(schema)s || '.', ' ON ')
  FROM pg_indexes WHERE schemaname = %(schema)s
UNION ALL
SELECT 'sequence', c.relname, concat_ws(' ', s.seqtypid::regtype::text, s.seqstart, s.seqincrement, s.seqmax, s.seqmin,
                                        s.seqcache, s.seqcycle)
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = %(schema)s::regnamespace
ORDER BY 1, 2, 3
"""


class Statements(CaptureQueriesContext):
    """The SQL run inside the block: ``statements`` leaves out django-tenants' SET
    search_path before each query, ``search_paths`` is those alone."""

    def __init__(self):
        super().__init__(connection)

    @property
    def statements(self) -> list[str]:
        return [q["sql"] for q in self.captured_queries if not q["sql"].startswith("SET search_path")]

    @property
    def search_paths(self) -> set[str]:
        return {q["sql"] for q in self.captured_queries if q["sql"].startswith("SET search_path")}


@pytest.fixture
def customers(acme, globex, initech):
    """The test session's three customer schemas, with their Customer rows."""
    return acme, globex, initech


def structure(schema: str) -> list[tuple[str, str, str]]:
    """Every column, relation, constraint, index and sequence of ``schema``, with the
    schema's own name taken out, so that two schemas can be compared."""
    with connection.cursor() as cursor:
        # With only public on the path, names in the schema come out qualified; the
        # qualification is taken out below.
        cursor.execute("SET search_path = public")
        cursor.execute(STRUCTURE, {"schema": schema})
        rows = cursor.fetchall()
    return [(kind, name, detail.replace(f"{schema}.", "")) for kind, name, detail in rows]


def applied(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        return set(cursor.fetchall())


def required() -> set[tuple[str, str]]:
    return set(migrations_on_disk().required)


def has_column(schema: str, table: str, column: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s AND column_name = %s)",
            [schema, table, column],
        )
        return cursor.fetchone()[0]


def migrate(*args, **options) -> tuple[str, str]:
    """call_command("migrate_schemas", ...): (stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("migrate_schemas", *args, interactive=False, stdout=out, stderr=err, **options)
    finally:
        connection.set_schema_to_public()
    return out.getvalue(), err.getvalue()


def migrate_failing(*args, **options) -> tuple[str, str, CommandError]:
    """The same for a run expected to fail: (stdout, stderr, the error)."""
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("migrate_schemas", *args, interactive=False, stdout=out, stderr=err, **options)
    connection.set_schema_to_public()
    return out.getvalue(), err.getvalue(), raised.value


def put_behind(schema: str) -> None:
    """Unapply the latest learners migration in ``schema`` with Django's own migrate."""
    migrate("learners", "0006", schema_name=schema, verbosity=0)
    assert LATEST not in applied(schema)
    assert not has_column(schema, "learners_learner", "name_folded")
