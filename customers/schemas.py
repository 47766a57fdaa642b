"""Customer schemas by the thousand: which ones are behind the migrations on disk,
read for every schema in a few queries, and the template schema that new customers'
schemas are copied from.

Every customer schema records in its own ``django_migrations`` every migration of
every app (django-tenants runs the whole plan in each schema; the router makes the
shared apps' operations no-ops there). A schema is current when it has recorded every
migration of the graph on disk. The template is one more schema, kept current by
``migrate_schemas`` (customers.migration_executor) and copied whole, tables, indexes
and its record of migrations, into each new customer's schema.

The copy is made here rather than by django-tenants' ``clone_schema`` SQL function:
that one loses tables' storage options (learners_allocation's fillfactor, which the
renewals' in-place updates rely on), took several times as long here, and re-creates
its few thousand lines of PL/pgSQL for every schema it makes."""

# ruff: noqa: S608
# SQL is built here only from names, each quoted by _quote or _literal; values go as
# parameters.

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import connections, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import get_tenant_database_alias

TEMPLATE_SCHEMA = settings.CUSTOMER_TEMPLATE_SCHEMA

# Advisory locks. The template's: taken shared by each copy, exclusive while the
# template is migrated, so that no new customer copies a half-migrated template.
# The run's: one migrate_schemas over every customer at a time (two deploys, or two
# containers starting at once); the second waits for the first.
TEMPLATE_LOCK = 0x637573745F746D70  # "cust_tmp"
RUN_LOCK = 0x637573745F6D6967  # "cust_mig"

# Schemas read per statement: one UNION ALL branch each.
SCHEMAS_PER_QUERY = 500

logger = logging.getLogger(__name__)

Key = tuple[str, str]  # (app label, migration name)


@dataclass(frozen=True)
class MigrationsOnDisk:
    """``required``: the graph's migrations, each of which a current schema has
    recorded (a squashed migration stands for the ones it replaces). ``all``: every
    migration file, replaced ones too; what a schema lacks of these decides its plan."""

    required: frozenset[Key]
    all: frozenset[Key]


@cache
def migrations_on_disk() -> MigrationsOnDisk:
    """Read once per process: the migration files are part of the code this process
    runs, and they change only with a deploy, which restarts it."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return MigrationsOnDisk(frozenset(loader.graph.nodes), frozenset(loader.disk_migrations))


def _quote(name: str) -> str:
    """An SQL identifier: a schema, table, column or sequence name."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def missing_migrations(schemas, on_disk: MigrationsOnDisk, *, using=None) -> dict[str, frozenset[Key] | None]:
    """For each schema, the migrations on disk it has not recorded (empty when it is
    current), or None when the schema does not exist. One query for the catalogue,
    then one per ``SCHEMAS_PER_QUERY`` schemas."""
    connection = connections[using or get_tenant_database_alias()]
    schemas = list(dict.fromkeys(schemas))
    everything = frozenset(on_disk.all)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT n.nspname, c.oid IS NOT NULL
            FROM pg_namespace n
            LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = 'django_migrations' AND c.relkind = 'r'
            WHERE n.nspname = ANY(%s)
            """,
            [schemas],
        )
        has_table = dict(cursor.fetchall())
    missing: dict[str, frozenset[Key] | None] = {}
    recorded = []
    for schema in schemas:
        if schema not in has_table:
            missing[schema] = None
        elif not has_table[schema]:
            missing[schema] = everything
        else:
            recorded.append(schema)
    apps, names = zip(*sorted(on_disk.all), strict=True) if on_disk.all else ((), ())
    for start in range(0, len(recorded), SCHEMAS_PER_QUERY):
        chunk = recorded[start : start + SCHEMAS_PER_QUERY]
        # The same on-disk list is compared with each schema's table; the answer is
        # what each schema lacks, so a current schema costs one empty array.
        branches = " UNION ALL ".join(
            f"SELECT %s, ARRAY(SELECT app || '.' || name FROM on_disk "
            f"EXCEPT SELECT app || '.' || name FROM {_quote(schema)}.django_migrations)"
            for schema in chunk
        )
        sql = f"WITH on_disk(app, name) AS (SELECT * FROM unnest(%s::text[], %s::text[])) {branches}"
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(apps), list(names), *chunk])
            for schema, lacking in cursor.fetchall():
                missing[schema] = frozenset(tuple(key.split(".", 1)) for key in lacking)
    return missing


@contextmanager
def advisory_lock(key: int, *, using=None):
    """Hold a session advisory lock on a connection of its own: Django's connection
    is closed before workers are forked and after a failing schema, and closing it
    must not let the lock go."""
    wrapper = connections[using or get_tenant_database_alias()]
    session = wrapper.get_new_connection(wrapper.get_connection_params())
    try:
        session.autocommit = True
        session.execute("SELECT pg_advisory_lock(%s)", [key])
        yield
    finally:
        session.close()


def is_behind(missing: frozenset[Key] | None, on_disk: MigrationsOnDisk) -> bool:
    return missing is None or not missing.isdisjoint(on_disk.required)


# --- The template -----------------------------------------------------------------------

# The template's own objects are found through pg_depend's index on what an object
# depends on (everything made in a schema records a dependency on it), and everything
# else by the oids of its tables: pg_class, pg_type and pg_proc have no index on the
# schema alone, and a filter on relnamespace reads every customer's rows, a cost that
# grows with each schema made.
OWN = """
WITH own AS (SELECT classid, objid, objsubid FROM pg_depend
              WHERE refclassid = 'pg_namespace'::regclass AND refobjid = %(ns)s AND deptype = 'n'),
     rel AS MATERIALIZED (SELECT c.* FROM own JOIN pg_class c ON c.oid = own.objid
                           WHERE own.classid = 'pg_class'::regclass),
     tab AS MATERIALIZED (SELECT * FROM rel WHERE relkind = 'r')
"""

# What the copy does not reproduce: a template holding any of these is not copied,
# and new customers' schemas are migrated instead (a warning says why).
UNSUPPORTED = (
    OWN
    + """
SELECT 'a ' || CASE relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'p' THEN 'partitioned table'
                            WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'composite type' ELSE 'relation' END
       || ' (' || relname || ')'
  FROM rel WHERE relkind NOT IN ('r', 'S')
UNION ALL
SELECT CASE WHEN classid = 'pg_proc'::regclass THEN 'a function (' || (SELECT proname FROM pg_proc WHERE oid = objid)
            WHEN classid = 'pg_type'::regclass THEN 'a type (' || (SELECT typname FROM pg_type WHERE oid = objid)
            ELSE pg_describe_object(classid, objid, objsubid) || ' (' || objid END || ')'
  FROM own WHERE classid <> 'pg_class'::regclass
UNION ALL
SELECT 'a table that is unlogged, row-secured, inherited, with grants or TOAST options (' || c.relname || ')'
  FROM tab c LEFT JOIN pg_class toast ON toast.oid = c.reltoastrelid
 WHERE c.relpersistence <> 'p' OR c.relrowsecurity OR c.relacl IS NOT NULL OR toast.reloptions IS NOT NULL
       OR EXISTS (SELECT FROM pg_inherits WHERE inhrelid = c.oid) OR EXISTS (SELECT FROM pg_inherits WHERE inhparent = c.oid)
UNION ALL
SELECT 'a sequence not owned by an identity column (' || s.relname || ')'
  FROM rel s WHERE s.relkind = 'S'
   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.deptype = 'i')
UNION ALL
SELECT 'a trigger (' || t.tgname || ')' FROM tab c JOIN LATERAL (SELECT tgname FROM pg_trigger
        WHERE tgrelid = c.oid AND NOT tgisinternal) t ON true
UNION ALL
SELECT 'a policy (' || p.polname || ')' FROM tab c JOIN LATERAL (SELECT polname FROM pg_policy
        WHERE polrelid = c.oid) p ON true
UNION ALL
SELECT 'extended statistics (' || s.stxname || ')' FROM tab c JOIN LATERAL (SELECT stxname FROM pg_statistic_ext
        WHERE stxrelid = c.oid) s ON true
UNION ALL
SELECT 'a column statistics target (' || c.relname || '.' || a.attname || ')'
  FROM tab c JOIN LATERAL (SELECT attname FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0
        AND NOT attisdropped AND coalesce(attstattarget, -1) <> -1) a ON true
"""
)

TABLES = (
    OWN
    + """
SELECT c.relname,
       coalesce((SELECT string_agg(quote_ident(split_part(o, '=', 1)) || '=' || quote_literal(substr(o, strpos(o, '=') + 1)), ', ')
                   FROM unnest(c.reloptions) AS o), ''),
       (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''),
       (SELECT array_agg(ARRAY[a.attname, s.relname]) FROM pg_depend d
          JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
          JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
           AND d.classid = 'pg_class'::regclass AND d.deptype = 'i')
  FROM tab c ORDER BY c.relname
"""
)

# With search_path set to the template alone, so that its own tables come out
# unqualified (and anything in public qualified). Foreign keys last.
CONSTRAINTS = (
    OWN
    + """
SELECT c.relname, con.conname, pg_get_constraintdef(con.oid)
  FROM tab c JOIN LATERAL (SELECT oid, conname, contype FROM pg_constraint
                            WHERE conrelid = c.oid AND contype IN ('p', 'u', 'c', 'x', 'f')) con ON true
 ORDER BY con.contype = 'f', c.relname, con.conname
"""
)

# Indexes of their own (not behind a primary key, unique or exclusion constraint).
# pg_get_indexdef always qualifies the table: it is swapped for the new schema's.
INDEXES = (
    OWN
    + """
SELECT definition, copy, copy <> definition
  FROM (SELECT pg_get_indexdef(i.indexrelid) AS definition,
               replace(pg_get_indexdef(i.indexrelid),
                       ' ON ' || quote_ident(%(template)s) || '.' || quote_ident(t.relname) || ' USING ',
                       ' ON ' || quote_ident(%(new)s) || '.' || quote_ident(t.relname) || ' USING ') AS copy
          FROM tab t JOIN LATERAL (SELECT indexrelid, indrelid FROM pg_index WHERE indrelid = t.oid) i ON true
         WHERE NOT EXISTS (SELECT FROM pg_constraint con WHERE con.conrelid = i.indrelid
                           AND con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x'))) AS indexes
 ORDER BY 1
"""
)


def copy_statements(cursor, new: str) -> list[str] | None:
    """The SQL that makes schema ``new`` a copy of the template, read from the
    catalogue now (the template's current state, whatever process migrated it), or
    None when the template holds something the copy does not reproduce."""
    template = TEMPLATE_SCHEMA
    cursor.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [template])
    ns = cursor.fetchone()[0]
    cursor.execute(UNSUPPORTED, {"ns": ns})
    unsupported = [reason for (reason,) in cursor.fetchall()]
    if unsupported:
        logger.warning("New customers' schemas are migrated, not copied: the template has %s.", ", ".join(unsupported))
        return None
    old_schema, new_schema = _quote(template), _quote(new)
    statements = [f"CREATE SCHEMA {new_schema}"]
    cursor.execute(TABLES, {"ns": ns})
    tables = cursor.fetchall()
    copies, sequences = [], []
    for table, options, columns, identities in tables:
        old, copy = f"{old_schema}.{_quote(table)}", f"{new_schema}.{_quote(table)}"
        # Columns with their types, defaults, identity, generated expressions, storage
        # and comments; constraints and indexes follow under their own names.
        statements.append(
            f"CREATE TABLE {copy} (LIKE {old} INCLUDING COMMENTS INCLUDING COMPRESSION INCLUDING DEFAULTS "
            f"INCLUDING GENERATED INCLUDING IDENTITY INCLUDING STORAGE)"
        )
        if options:
            statements.append(f"ALTER TABLE {copy} SET ({options})")
        copies.append(f"INSERT INTO {copy} ({columns}) OVERRIDING SYSTEM VALUE SELECT {columns} FROM {old}")
        for column, sequence in identities or []:
            sequences.append(
                f"SELECT setval(pg_get_serial_sequence({_literal(copy)}, {_literal(column)}), last_value, is_called) "
                f"FROM {old_schema}.{_quote(sequence)}"
            )
    statements += copies
    cursor.execute(f"SET LOCAL search_path = {old_schema}")
    cursor.execute(CONSTRAINTS, {"ns": ns})
    constraints = cursor.fetchall()
    cursor.execute(INDEXES, {"ns": ns, "template": template, "new": new})
    indexes = []
    for definition, copy, swapped in cursor.fetchall():
        if not swapped:
            logger.warning("New customers' schemas are migrated, not copied: the template has index %s.", definition)
            return None
        indexes.append(copy)
    # Unqualified names in constraint definitions are the new schema's tables.
    statements.append(f"SET LOCAL search_path = {new_schema}, public")
    for table, name, definition in constraints:
        statements.append(f"ALTER TABLE {new_schema}.{_quote(table)} ADD CONSTRAINT {_quote(name)} {definition}")
    statements += indexes
    statements += sequences
    return statements


def copy_template(schema_name: str, *, using=None) -> bool:
    """Create schema ``schema_name`` as a copy of the template: its tables, their
    storage options, constraints, indexes and identity sequences, and its rows (the
    record of applied migrations). Returns False, having done nothing, when the
    template is missing or behind the migrations on disk (a deploy whose
    ``migrate_schemas`` has not run yet): the caller then migrates a fresh schema,
    slow as that is, rather than copy a stale one."""
    alias = using or get_tenant_database_alias()
    connection = connections[alias]
    connection.set_schema_to_public()
    on_disk = migrations_on_disk()
    apps, names = zip(*sorted(on_disk.required), strict=True)
    try:
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            # Held until the caller's transaction ends: the template cannot be
            # migrated while a customer is being copied from it.
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [TEMPLATE_LOCK])
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{_quote(TEMPLATE_SCHEMA)}.django_migrations"])
            if not cursor.fetchone()[0]:
                return False
            cursor.execute(
                f"SELECT NOT EXISTS (SELECT FROM unnest(%s::text[], %s::text[]) AS r(app, name) "
                f"WHERE NOT EXISTS (SELECT FROM {_quote(TEMPLATE_SCHEMA)}.django_migrations m "
                f"WHERE m.app = r.app AND m.name = r.name))",
                [list(apps), list(names)],
            )
            if not cursor.fetchone()[0]:
                return False
            statements = copy_statements(cursor, schema_name)
            if statements is None:
                return False
            cursor.execute(";\n".join(statements))
    finally:
        # The search_path was changed here; django-tenants sets it again from public.
        connection.set_schema_to_public()
    return True
