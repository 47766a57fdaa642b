"""Operators' commands: create_partner, create_customer, create_user, seed_demo."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_exists

from accounts.models import Role, User
from customers.models import Customer
from learners.models import Learner
from partners.models import Partner


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_partner(db):
    output = run("create_partner", "Contoso Partners")
    assert Partner.objects.filter(name="Contoso Partners").exists()
    assert "Created partner Contoso Partners" in output
    with pytest.raises(CommandError, match="already exists"):
        run("create_partner", "contoso partners")
    assert Partner.objects.get(name="Contoso Partners").time_zone == "Europe/London"
    run("create_partner", "Fabrikam", "--time-zone", "Asia/Kolkata")
    assert Partner.objects.get(name="Fabrikam").time_zone == "Asia/Kolkata"
    with pytest.raises(CommandError, match="not a known time zone"):
        run("create_partner", "Tailspin", "--time-zone", "Mars/Olympus")


def test_create_customer_makes_a_migrated_schema(partner_a):
    output = run("create_customer", "Wayne Enterprises", "--partner", partner_a.name, "--time-zone", "Europe/Paris")

    customer = Customer.objects.get(name="Wayne Enterprises")
    assert customer.partner == partner_a
    assert customer.time_zone == "Europe/Paris"
    assert customer.schema_name == "c_wayne_enterprises"
    assert schema_exists(customer.schema_name)
    with customer:
        assert Learner.objects.count() == 0  # the tenant tables exist
    assert connection.schema_name == "public"
    assert "schema c_wayne_enterprises" in output


def test_create_customer_refuses_unknown_partner_and_bad_time_zone(partner_a):
    with pytest.raises(CommandError, match="No partner"):
        run("create_customer", "Nobody Ltd", "--partner", "Unknown")
    with pytest.raises(CommandError, match="not a known time zone"):
        run("create_customer", "Nowhere Ltd", "--partner", partner_a.name, "--time-zone", "Mars/Olympus")
    assert not Customer.objects.filter(name__in=["Nobody Ltd", "Nowhere Ltd"]).exists()


def test_create_user_with_each_role(partner_a, acme):
    run("create_user", "pm@example.test", "--role", "partner_manager", "--partner", partner_a.name)
    run("create_user", "cm@example.test", "--role", "customer_manager", "--customer", "acme")
    run("create_user", "Learner@Example.test", "--role", "learner", "--customer", str(acme.pk), "--name", "Lou")

    assert User.objects.get(email="pm@example.test").partner == partner_a
    assert User.objects.get(email="cm@example.test").customer == acme
    learner = User.objects.get(email="learner@example.test")
    assert learner.role == Role.LEARNER
    with acme:
        assert Learner.objects.filter(email="learner@example.test", name="Lou").exists()


def test_create_user_refuses_role_without_company(db):
    with pytest.raises(CommandError, match="--partner is required"):
        run("create_user", "pm@example.test", "--role", "partner_manager")
    assert not User.objects.exists()


def test_seed_demo_is_idempotent(db):
    first_output = run("seed_demo")

    def snapshot():
        counts = {"partners": Partner.objects.count(), "users": User.objects.count()}
        for customer in Customer.objects.order_by("schema_name"):
            with customer:
                counts[customer.schema_name] = Learner.objects.count()
        return counts

    first = snapshot()
    run("seed_demo")
    assert snapshot() == first
    assert first["partners"] == 2
    assert len([key for key in first if key not in ("partners", "users")]) >= 3
    assert all(first[schema] >= 20 for schema in ("acme", "globex", "umbrella"))
    assert "alice@northwind.example" in first_output


def test_seed_demo_gives_the_charts_a_year_of_history(db):
    from licences.charts import seats_in_use_by_week

    run("seed_demo")
    for schema in ("acme", "globex", "umbrella"):
        customer = Customer.objects.get(schema_name=schema)
        weeks = [w.seats_in_use for w in seats_in_use_by_week(customer, in_use_now=0)]
        assert None not in weeks, schema  # every past week recorded
        assert len(set(weeks[:-1])) > 3, (schema, weeks)  # the seats rose and fell through the year
