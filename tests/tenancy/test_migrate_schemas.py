"""migrate_schemas over every customer schema: it reads what each schema has applied
in a few queries, migrates only the schemas behind (the template first), goes on
past a schema that fails, and ends with the failures listed and a non-zero exit."""

from django.db import connection

from customers.services import create_customer
from tests.builders import (
    LATEST,
    TEMPLATE,
    Statements,
    applied,
    has_column,
    migrate,
    migrate_failing,
    put_behind,
    required,
)
from tests.conftest import TEST_SCHEMAS


def test_nothing_to_apply_reads_every_schema_in_the_same_few_queries(customers, partner_a):
    with Statements() as three:
        out, _ = migrate(tenant=True)
    assert "4 checked" in out and "4 current, 0 behind" in out and "Nothing to migrate" in out

    for n in range(6):
        create_customer(name=f"Customer {n}", partner=partner_a)
    with Statements() as nine:
        out, _ = migrate(tenant=True)
    assert "10 current, 0 behind" in out
    assert len(nine.statements) == len(three.statements) <= 5, nine.statements
    assert not any("ALTER" in sql or "CREATE TABLE" in sql for sql in nine.statements)


def test_only_the_schemas_behind_are_migrated(customers):
    put_behind("acme")
    before = {schema: applied(schema) for schema in ("globex", "initech", TEMPLATE)}

    out, err = migrate(tenant=True)

    assert "3 current, 1 behind" in out
    assert f"1 to migrate: {LATEST[0]}.{LATEST[1]}" in out
    assert "Migrated 1 of 4 schemas" in out and not err
    assert has_column("acme", "learners_learner", "name_folded")
    assert applied("acme") >= required()
    assert {schema: applied(schema) for schema in before} == before


def test_the_template_is_migrated_with_the_customers(customers):
    put_behind(TEMPLATE)
    put_behind("globex")
    out, _ = migrate(tenant=True)
    assert "Migrated 2 of 4 schemas" in out
    assert has_column(TEMPLATE, "learners_learner", "name_folded")
    assert has_column("globex", "learners_learner", "name_folded")


def test_a_missing_template_is_made(customers):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA {TEMPLATE} CASCADE")
    out, _ = migrate(tenant=True)
    assert "Migrated 1 of 4 schemas" in out
    assert applied(TEMPLATE) >= required()


def test_a_failing_schema_does_not_stop_the_others(customers):
    for schema in TEST_SCHEMAS:
        put_behind(schema)
    with connection.cursor() as cursor:  # globex's own column of that name is in the way
        cursor.execute("ALTER TABLE globex.learners_learner ADD COLUMN name_folded text")

    out, err, error = migrate_failing(tenant=True)

    assert str(error) == "1 of 4 customer schemas failed to migrate."
    assert "Migrated 2 of 4 schemas" in out
    assert '  globex: ProgrammingError: column "name_folded" of relation "learners_learner" already exists' in err
    assert "run migrate_schemas again: it migrates only the schemas still behind" in err
    for schema in ("acme", "initech"):
        assert LATEST in applied(schema)
    assert LATEST not in applied("globex")  # left at its last good migration

    # Once the cause is gone, the next run takes globex alone.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE globex.learners_learner DROP COLUMN name_folded")
    out, _ = migrate(tenant=True)
    assert "3 current, 1 behind" in out and LATEST in applied("globex")


def test_check_lists_the_schemas_behind_and_changes_nothing(customers):
    put_behind("initech")
    _, _, error = migrate_failing(tenant=True, check_unapplied=True)
    assert str(error) == "1 schemas have unapplied migrations: initech."
    assert LATEST not in applied("initech")
    migrate(tenant=True)
    migrate(tenant=True, check_unapplied=True)  # nothing behind: no error


def test_targeting_a_migration_goes_schema_by_schema_past_failures(customers):
    """An app label and migration name run Django's migrate in each schema; a
    failing schema is reported and the others go on."""
    with connection.cursor() as cursor:  # unapplying 0007 drops this column: gone already
        cursor.execute("ALTER TABLE acme.learners_learner DROP COLUMN name_folded")

    _, err, error = migrate_failing("learners", "0006", tenant=True, verbosity=0)
    assert str(error) == "1 of 4 customer schemas failed to migrate."
    # acme fails first unapplying 0011, which puts back 0009's search index on that column
    assert 'acme: ProgrammingError: column "name_folded" does not exist' in err

    assert LATEST in applied("acme")
    for schema in ("globex", "initech", TEMPLATE):
        assert LATEST not in applied(schema)
