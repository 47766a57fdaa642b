"""migrate_schemas as an operator runs it (manage.py, in its own process) with two
worker processes: the schemas behind are shared out, the one that fails is listed,
the others are migrated, and the exit status is non-zero. And one run over every
customer at a time."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection, connections

from customers.schemas import RUN_LOCK, advisory_lock
from customers.services import create_customer
from tests.builders import LATEST, applied, has_column, migrate

ROOT = Path(__file__).resolve().parents[2]


def database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{quote(db['HOST'] or '127.0.0.1', safe='')}:{db['PORT'] or 5432}/{db['NAME']}"


def test_workers_migrate_the_schemas_behind_and_report_the_one_that_fails(tenant_transactional_db, partner_a):
    customers = [create_customer(name=f"Parallel {n}", partner=partner_a) for n in range(1, 7)]
    schemas = [customer.schema_name for customer in customers]
    broken = schemas[2]
    try:
        with connection.cursor() as cursor:
            for schema in schemas:  # LATEST and the learners migrations after it unapplied, by hand
                cursor.execute(f"ALTER TABLE {schema}.learners_learner DROP COLUMN name_folded")
                # learners.0010 (renew early, carry-over) undone by hand too
                cursor.execute(f"DROP TABLE {schema}.learners_carryover, {schema}.learners_carryoversetting")
                cursor.execute(f"DROP TABLE {schema}.learners_lapse")  # and learners.0012
                cursor.execute(f"DROP INDEX {schema}.allocation_renewed_early_idx")
                # and learners.0011: dropping its stored trigram columns drops the search's indexes on them
                cursor.execute(
                    f"ALTER TABLE {schema}.learners_learner DROP COLUMN email_trigrams, DROP COLUMN name_trigrams"
                )
                cursor.execute(f"DELETE FROM {schema}.django_migrations WHERE app = %s AND name >= %s", list(LATEST))
            cursor.execute(f"ALTER TABLE {broken}.learners_learner ADD COLUMN name_folded text")

        env = dict(os.environ, DATABASE_URL=database_url(), DJANGO_SETTINGS_MODULE="config.test_settings")
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate_schemas", "--tenant", "--parallel", "2"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

        assert done.returncode == 1, done.stdout + done.stderr
        assert "6 behind" in done.stdout
        assert "Migrated 5 of 7 schemas" in done.stdout and "(2 workers;" in done.stdout
        assert f'  {broken}: ProgrammingError: column "name_folded" of relation "learners_learner" already exists' in (
            done.stderr
        )
        assert "CommandError: 1 of 7 customer schemas failed to migrate." in done.stderr
        for schema in schemas:
            migrated = schema != broken
            assert (LATEST in applied(schema)) is migrated
            assert has_column(schema, "learners_learner", "name_folded")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA " + ", ".join(schemas) + " CASCADE")


def test_a_second_run_waits_for_the_first(tenant_transactional_db):
    done = threading.Event()

    def second_run():
        try:
            migrate(tenant=True, verbosity=0)
        finally:
            connections.close_all()
            done.set()

    with advisory_lock(RUN_LOCK):  # the first run
        thread = threading.Thread(target=second_run)
        thread.start()
        deadline = time.monotonic() + 20
        waiting = 0
        while not waiting and time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                waiting = cursor.fetchone()[0]
            time.sleep(0.05)
        assert waiting == 1 and not done.is_set()
    assert done.wait(30)
    thread.join()
