"""A new customer's schema is a copy of the template schema: the same tables,
columns, constraints, indexes and storage options as a schema migrated from
scratch, its migrations recorded; a missing, stale or unusual template is never
copied (the schema is migrated instead)."""

import logging

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.models import TenantMixin
from django_tenants.utils import schema_exists

from customers.models import Customer
from customers.services import create_customer
from learners.models import Allocation, Learner
from tests.builders import LATEST, TEMPLATE, Statements, applied, required, structure


@pytest.fixture
def migrated_schema(db, monkeypatch):
    """A schema made the way django-tenants makes one without a template: created
    empty and migrated by its own standard executor."""
    monkeypatch.setenv("EXECUTOR", "standard")
    TenantMixin.create_schema(Customer(schema_name="migrated_fresh"), verbosity=0)
    monkeypatch.delenv("EXECUTOR")
    return "migrated_fresh"


def test_the_copy_is_what_migrating_makes(partner_a, migrated_schema):
    customer = create_customer(name="Wayne Enterprises", partner=partner_a)

    copied = structure(customer.schema_name)
    assert copied == structure(migrated_schema)
    # Not vacuously: the tables, the partial unique index and migration 0006's
    # fillfactor are there.
    assert ("index", "one_current_allocation_per_learner") in {(kind, name) for kind, name, _ in copied}
    assert ("relation", "learners_allocation", "r p {fillfactor=40}") in copied
    assert applied(customer.schema_name) == applied(migrated_schema) >= required()
    assert connection.schema_name == "public"


def test_the_copy_is_used_not_a_migration(partner_a):
    """The copy records the migrations with the template's timestamps; a migration
    would have stamped them now."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(applied) FROM {TEMPLATE}.django_migrations")
        template_applied = cursor.fetchone()[0]
    customer = create_customer(name="Wayne Enterprises", partner=partner_a)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(applied) FROM {customer.schema_name}.django_migrations")
        assert cursor.fetchone()[0] == template_applied < timezone.now()


def test_the_copy_works_as_a_customer_schema(partner_a):
    customer = create_customer(name="Wayne Enterprises", partner=partner_a)
    with customer:
        learner = Learner.objects.create(email="bruce@wayne.test", name="Bruce Wayne")
        assert learner.pk == 1 and Learner.objects.get().name_folded == "bruce wayne"
        Allocation.objects.create(learner=learner, order_id=1, expires_at=timezone.now())
        with pytest.raises(IntegrityError), transaction.atomic():
            Allocation.objects.create(learner=learner, order_id=2, expires_at=timezone.now())
    # Its own record of migrations goes on numbering after the copied rows.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(id) FROM {customer.schema_name}.django_migrations")
        copied = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {customer.schema_name}.django_migrations (app, name, applied) "
            "VALUES ('learners', 'later', now()) RETURNING id"
        )
        assert cursor.fetchone()[0] > copied >= len(required())


def test_a_stale_template_is_not_copied(partner_a):
    """The template lacks a migration (a deploy whose migrate_schemas has not run):
    the new schema is migrated instead, and has it."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TEMPLATE}.django_migrations WHERE app = %s AND name = %s", list(LATEST))
    customer = create_customer(name="Wayne Enterprises", partner=partner_a)
    assert LATEST in applied(customer.schema_name)
    assert applied(customer.schema_name) >= required()


def test_without_a_template_the_schema_is_migrated(partner_a):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA {TEMPLATE} CASCADE")
    customer = create_customer(name="Wayne Enterprises", partner=partner_a)
    assert applied(customer.schema_name) >= required()
    with customer:
        assert Learner.objects.count() == 0


def test_a_template_with_what_the_copy_cannot_make_is_not_copied(partner_a, migrated_schema, caplog):
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE VIEW {TEMPLATE}.active_learners AS SELECT * FROM {TEMPLATE}.learners_learner")
    with caplog.at_level(logging.WARNING, logger="customers.schemas"):
        customer = create_customer(name="Wayne Enterprises", partner=partner_a)
    assert "a view (active_learners)" in caplog.text
    assert structure(customer.schema_name) == structure(migrated_schema)  # migrated: no view


def test_the_template_schema_name_is_reserved(partner_a):
    with pytest.raises(ValidationError, match="reserved"):
        create_customer(name="Sneaky", partner=partner_a, schema_name=TEMPLATE)
    assert not Customer.objects.filter(schema_name=TEMPLATE).exists()


def test_creating_a_customer_costs_the_same_queries_however_many_there_are(partner_a):
    def statements_of_one_more(n):
        with Statements() as captured:
            create_customer(name=f"Customer {n}", partner=partner_a)
        return captured.statements

    few = statements_of_one_more(1)
    Customer.objects.bulk_create(  # rows only: the count is what matters here
        Customer(name=f"Bulk {n:03d}", partner=partner_a, schema_name=f"bulk_{n}") for n in range(200)
    )
    many = statements_of_one_more(2)
    assert len(few) == len(many)
    assert schema_exists("c_customer_2")


def test_a_template_with_a_function_is_not_copied(partner_a, caplog):
    """Found through what depends on the template's schema, not by reading every
    schema's functions."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE FUNCTION {TEMPLATE}.shout(text) RETURNS text LANGUAGE sql AS 'SELECT upper($1)'")
    with caplog.at_level(logging.WARNING, logger="customers.schemas"):
        customer = create_customer(name="Wayne Enterprises", partner=partner_a)
    assert "a function (shout)" in caplog.text
    assert applied(customer.schema_name) >= required()
