"""The migration executor behind ``migrate_schemas`` (settings.GET_EXECUTOR_FUNCTION).

django-tenants' own executors run Django's whole ``migrate`` command in every schema,
one after another (or N at a time): loading the migrations, rendering every model's
historical state, system checks, even when there is nothing to apply. At thousands of
customers that is minutes for nothing, and the first failing schema stops the rest.

This one:
- reads every schema's applied migrations in a few queries and migrates only the
  schemas that are behind (``customers.schemas``);
- migrates those that lack the same migrations with one loader, one plan and one
  rendered state, cloned for each schema, as Django's ``migrate`` does for one;
- spreads them over ``--parallel`` worker processes (default
  ``TENANT_MIGRATION_WORKERS``), each working through chunks of schemas;
- keeps the template schema that new customers are copied from current (migrated
  first, under its lock);
- catches a failing schema, goes on with the others, lists the failures at the end
  and exits non-zero.

Options that target particular migrations (an app label or migration name, --fake,
--fake-initial, --prune, --plan, --run-syncdb) run Django's ``migrate`` in each
schema one by one, with the same report. ``--executor standard|multiprocessing|
subprocess`` still picks django-tenants' own."""

import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from dataclasses import dataclass, field
from multiprocessing import get_context

from django.conf import settings
from django.core.management.base import CommandError, OutputWrapper
from django.core.management.sql import emit_post_migrate_signal, emit_pre_migrate_signal
from django.db import connections
from django.db.migrations.executor import MigrationExecutor as DjangoMigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django_tenants.migration_executors import get_executor as get_django_tenants_executor
from django_tenants.migration_executors.base import MigrationExecutor, run_migrations

from customers.schemas import (
    RUN_LOCK,
    TEMPLATE_LOCK,
    TEMPLATE_SCHEMA,
    Key,
    advisory_lock,
    is_behind,
    migrations_on_disk,
    missing_migrations,
)

# Options for which each schema runs Django's own migrate command.
ONE_BY_ONE_OPTIONS = ("app_label", "migration_name", "fake", "fake_initial", "prune", "plan", "run_syncdb")

# Schemas per task handed to a worker, at most: small enough to share the work out
# evenly, large enough that a worker prepares its plan once for many schemas.
CHUNK = 25


def get_executor(codename=None):
    """settings.GET_EXECUTOR_FUNCTION: this executor unless --executor (or the
    EXECUTOR environment variable, as in django-tenants) names another."""
    return get_django_tenants_executor(codename or os.environ.get("EXECUTOR") or CustomerSchemasExecutor.codename)


def peak_memory_mib() -> float:
    """This process's peak resident memory so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- Migrating schemas that lack the same migrations ---------------------------------------


class Plan:
    """What the schemas lacking ``missing`` need, prepared once on the first of them:
    Django's loader and executor, the plan, and the rendered state before it."""

    def __init__(self, missing: frozenset[Key], schema: str, alias: str, has_table: bool):
        self.missing, self.alias = missing, alias
        connection = connections[alias]
        use_schema(connection, schema, has_table)
        self.executor = DjangoMigrationExecutor(connection)
        loader = self.executor.loader
        loader.check_consistent_history(connection)
        conflicts = loader.detect_conflicts()
        if conflicts:
            names = "; ".join(f"{', '.join(migrations)} in {app}" for app, migrations in conflicts.items())
            raise CommandError(f"Conflicting migrations detected ({names}); run makemigrations --merge.")
        self.targets = loader.graph.leaf_nodes()
        self.plan = self.executor.migration_plan(self.targets)
        # The migrate command's own (private) way to the state before the plan; rendered
        # here once, then cloned for each schema.
        self.state = self.executor._create_project_state(with_applied_migrations=True)
        self.state.apps  # noqa: B018 (renders the models)

    def apply(self, schema: str, has_table: bool) -> None:
        connection = connections[self.alias]
        self.executor.recorder = use_schema(connection, schema, has_table)
        emit_pre_migrate_signal(0, False, self.alias, apps=self.state.apps, plan=self.plan)
        state = self.executor.migrate(self.targets, plan=self.plan, state=self.state.clone())
        # Unlike migrate, no full re-render of the final state for post_migrate: in a
        # customer schema its receivers (content types, permissions) find their
        # models routed to public and return, and the re-render was half the time.
        emit_post_migrate_signal(0, False, self.alias, apps=state.apps, plan=self.plan)
        connection.set_schema_to_public()


class SchemaRecorder(MigrationRecorder):
    """The recorder of a schema whose django_migrations table is known to exist:
    no introspection query to find it, each time it is used."""

    def has_table(self):
        return True


def use_schema(connection, schema: str, has_table: bool) -> MigrationRecorder:
    """Point the connection at ``schema`` and return the recorder of its own
    django_migrations table. A table still to be made is made as django-tenants does:
    with public off the search path, so that public's table is not taken for it."""
    if has_table:
        connection.set_schema(schema)
        return SchemaRecorder(connection)
    connection.set_schema(schema, include_public=False)
    MigrationRecorder(connection).ensure_schema()
    connection.set_schema(schema)
    return MigrationRecorder(connection)


@dataclass
class Outcome:
    """What one run of schemas came to. ``failed`` maps a schema to its error;
    ``memory`` maps each process that migrated to its peak memory (MiB) after its
    first schema and after its last."""

    migrated: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    memory: dict[int, tuple[float, float]] = field(default_factory=dict)

    def add(self, other: "Outcome") -> None:
        self.migrated += other.migrated
        self.failed.update(other.failed)
        for pid, (first, last) in other.memory.items():
            earlier = self.memory.get(pid, (first, last))
            self.memory[pid] = (min(earlier[0], first), max(earlier[1], last))

    def note_memory(self) -> None:
        pid, now = os.getpid(), peak_memory_mib()
        self.memory[pid] = (self.memory.get(pid, (now, now))[0], now)


def describe(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text}"


def migrate_schemas(missing: frozenset[Key], schemas: list[str], options: dict, plans: dict) -> Outcome:
    """Migrate ``schemas``, which all lack ``missing``, each on its own: a failure is
    recorded and the next schema goes on. ``plans`` keeps the prepared plan between
    calls (one per worker process). Schemas lacking every migration on disk may lack
    their django_migrations table too."""
    has_table = missing != migrations_on_disk().all
    alias = options.get("database") or "default"
    connection = connections[alias]
    outcome = Outcome()
    for schema in schemas:
        try:
            plan = plans.get(missing)
            if plan is None:
                plans.clear()  # one plan at a time: memory stays flat
                plan = plans[missing] = Plan(missing, schema, alias, has_table)
            plan.apply(schema, has_table)
        except Exception as error:
            outcome.failed[schema] = describe(error)
            # Start the next schema on a fresh connection, whatever state this left.
            if not connection.in_atomic_block:
                connection.close()
        else:
            outcome.migrated.append(schema)
        outcome.note_memory()
    return outcome


_worker_plans: dict = {}


def migrate_chunk(missing, schemas, options) -> Outcome:
    """A worker process's task; its prepared plan stays for its next chunk."""
    return migrate_schemas(missing, schemas, options, _worker_plans)


# --- The executor ------------------------------------------------------------------------------


class CustomerSchemasExecutor(MigrationExecutor):
    codename = "customers"

    def run_migrations(self, tenants=None):
        tenants = list(tenants or [])
        self.out = OutputWrapper(self.options.get("stdout") or sys.stdout)
        self.err = OutputWrapper(self.options.get("stderr") or sys.stderr)
        self.verbosity = int(self.options.get("verbosity", 1))
        checking = self.options.get("check_unapplied")
        # Every customer, not one named by --schema (nor a new customer's schema being
        # migrated inside its transaction): one such run at a time, the template first.
        all_customers = not self.options.get("schema_name")
        one_at_a_time = all_customers and not checking
        with advisory_lock(RUN_LOCK, using=self.TENANT_DB_ALIAS) if one_at_a_time else nullcontext():
            if self.PUBLIC_SCHEMA_NAME in tenants:
                # The shared apps first, as django-tenants does; a failure here stops the run.
                run_migrations(self.args, self.options, self.codename, self.PUBLIC_SCHEMA_NAME)
                tenants.remove(self.PUBLIC_SCHEMA_NAME)
                if not tenants:
                    return
            started = time.perf_counter()
            if all_customers:
                if not checking:
                    self.ensure_template_schema()
                tenants.insert(0, TEMPLATE_SCHEMA)
            if any(self.options.get(option) for option in ONE_BY_ONE_OPTIONS):
                outcome = self.one_by_one(tenants)
                self.report(outcome, len(tenants), started)
            else:
                self.migrate_behind(tenants, started)

    def run_multi_type_migrations(self, tenants):
        raise NotImplementedError("Multi-type tenants are not used here; use --executor=standard.")

    def write(self, text, level=1):
        if self.verbosity >= level:
            self.out.write(text)

    @property
    def connection(self):
        return connections[self.TENANT_DB_ALIAS]

    # --- The template --------------------------------------------------------------------

    def ensure_template_schema(self):
        with self.connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{TEMPLATE_SCHEMA}"')

    # --- Only the schemas behind ---------------------------------------------------------

    def migrate_behind(self, schemas, started):
        on_disk = migrations_on_disk()
        missing = missing_migrations(schemas, on_disk, using=self.TENANT_DB_ALIAS)
        outcome = Outcome()
        behind: dict[frozenset[Key], list[str]] = {}
        checking = self.options.get("check_unapplied")
        for schema in schemas:
            if missing[schema] is None and not checking:
                outcome.failed[schema] = "the schema does not exist (manage.py create_missing_schemas makes it)"
            elif is_behind(missing[schema], on_disk):
                behind.setdefault(missing[schema], []).append(schema)
        count = sum(len(group) for group in behind.values())
        self.write(
            f"Customer schemas: {len(schemas):,} checked in {time.perf_counter() - started:.1f}s, "
            f"{len(schemas) - count - len(outcome.failed):,} current, {count:,} behind."
        )
        if checking:
            if count:
                listed = sorted(schema for group in behind.values() for schema in group)
                more = f" and {len(listed) - 10:,} more" if len(listed) > 10 else ""
                raise CommandError(f"{count:,} schemas have unapplied migrations: {', '.join(listed[:10])}{more}.")
            return
        for lacking, group in behind.items():
            applying = sorted(f"{app}.{name}" for app, name in lacking & on_disk.required)
            if len(applying) > 4:
                applying = [*applying[:2], f"... {len(applying) - 3} more ...", applying[-1]]
            self.write(f"  {len(group):,} to migrate: {', '.join(applying)}")
        template = [TEMPLATE_SCHEMA for group in behind.values() if TEMPLATE_SCHEMA in group]
        if template:
            lacking = missing[TEMPLATE_SCHEMA]
            behind[lacking].remove(TEMPLATE_SCHEMA)
            with advisory_lock(TEMPLATE_LOCK, using=self.TENANT_DB_ALIAS):
                outcome.add(migrate_schemas(lacking, template, self.options, {}))
        groups = [(lacking, group) for lacking, group in behind.items() if group]
        workers = 1
        if groups:
            workers = self.workers(count - len(template))
            outcome.add(self.migrate_groups(groups, count - len(template), workers, started))
        self.report(outcome, len(schemas), started, workers)

    def workers(self, count):
        wanted = self.options.get("parallel") or getattr(settings, "TENANT_MIGRATION_WORKERS", 2)
        # Inside a transaction (a customer being created, a test) the work must stay
        # on this connection.
        if self.connection.in_atomic_block:
            return 1
        return max(1, min(int(wanted), count))

    def migrate_groups(self, groups, count, workers, started) -> Outcome:
        # About four tasks per worker, so that one slow chunk does not leave the others idle.
        chunk = max(1, min(CHUNK, -(-count // (workers * 4))))
        tasks = [(lacking, group[i : i + chunk]) for lacking, group in groups for i in range(0, len(group), chunk)]
        if workers == 1:
            outcome, plans = Outcome(), {}
            for lacking, schemas in tasks:
                outcome.add(migrate_schemas(lacking, schemas, self.options, plans))
                self.progress(outcome, count, started)
            return outcome
        options = {k: v for k, v in self.options.items() if k not in ("stdout", "stderr")}
        # Forked workers inherit Django, set up; not this process's connection.
        connections.close_all()
        outcome = Outcome()
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
            futures = {pool.submit(migrate_chunk, lacking, chunk, options): chunk for lacking, chunk in tasks}
            for future in as_completed(futures):
                try:
                    outcome.add(future.result())
                except BrokenProcessPool as error:
                    outcome.failed.update(dict.fromkeys(futures[future], f"its worker died: {error}"))
                self.progress(outcome, count, started)
        return outcome

    def progress(self, outcome, count, started):
        done = len(outcome.migrated) + len(outcome.failed)
        if done < count:
            self.write(
                f"  {done:,}/{count:,} done, {len(outcome.failed):,} failed ({time.perf_counter() - started:.1f}s)",
                level=2,
            )

    # --- Django's migrate in each schema -------------------------------------------------

    def one_by_one(self, schemas) -> Outcome:
        outcome = Outcome()
        for index, schema in enumerate(schemas):
            try:
                run_migrations(self.args, self.options, self.codename, schema, idx=index, count=len(schemas))
            except Exception as error:
                outcome.failed[schema] = describe(error)
                self.err.write(f"{schema}: {outcome.failed[schema]}")
                if not self.connection.in_atomic_block:
                    self.connection.close()
            except SystemExit as exit_:  # migrate --check exits when a plan is not empty
                if exit_.code:
                    outcome.failed[schema] = "has unapplied migrations"
            else:
                outcome.migrated.append(schema)
        return outcome

    # --- The report ------------------------------------------------------------------------

    def report(self, outcome, total, started, workers=1):
        elapsed = time.perf_counter() - started
        if outcome.migrated:
            memory = ""
            if outcome.memory:
                first = max(first for first, _ in outcome.memory.values())
                last = max(last for _, last in outcome.memory.values())
                memory = (
                    f"; peak memory per process {first:.0f} MiB after its first schema, {last:.0f} MiB after its last"
                )
            self.write(
                f"Migrated {len(outcome.migrated):,} of {total:,} schemas in {elapsed:.1f}s "
                f"({workers} worker{'s' if workers != 1 else ''}{memory})."
            )
        elif not outcome.failed:
            self.write(f"Nothing to migrate: {total:,} schemas are current ({elapsed:.1f}s).")
        if outcome.failed:
            self.err.write(f"{len(outcome.failed):,} schemas failed and were left at their last good migration:")
            for schema, error in sorted(outcome.failed.items()):
                self.err.write(f"  {schema}: {error}")
            self.err.write("Fix the cause and run migrate_schemas again: it migrates only the schemas still behind.")
            raise CommandError(f"{len(outcome.failed):,} of {total:,} customer schemas failed to migrate.")
