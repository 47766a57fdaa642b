"""Shared fixtures: a small world every test can reuse.

Partner A (Northwind) has two managers, alice and bob, and two customers, acme and
globex. Partner B (Bluefin) has charlie and one customer, initech. Each customer has
a manager (dana, erin, frank) and a learner account (lena at acme).

Tenant schemas are created once per test session (creating a schema runs
migrations, which is slow); the public rows pointing at them are created per test
inside the test's transaction, so every test starts from the same world.
"""

import os

import pytest
from django.apps import apps
from django.db import connection, connections

from accounts.models import Role
from customers.models import Customer
from learners.models import Learner
from partners.models import Partner
from tests.builders import make_customer, make_user

TEST_SCHEMAS = ("acme", "globex", "initech")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        for schema in TEST_SCHEMAS:
            Customer(schema_name=schema).create_schema(check_if_exists=True, verbosity=0)


@pytest.fixture(autouse=True)
def _public_schema_between_tests():
    """Whatever a test did, the next starts in the public schema."""
    yield
    connection.set_schema_to_public()


@pytest.fixture
def tenant_transactional_db(transactional_db):
    """transactional_db for tests whose work must commit (threads, live server,
    a real Celery worker). Django's flush empties public tables only, so tenant
    tables are emptied here, before it."""
    yield
    connection.set_schema_to_public()
    tenant_tables = [model._meta.db_table for model in apps.get_app_config("learners").get_models()]
    with connection.cursor() as cursor:
        tables = ", ".join(f"{schema}.{table}" for schema in TEST_SCHEMAS for table in tenant_tables)
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY")


@pytest.fixture
def partner_a(db):
    return Partner.objects.create(name="Northwind Security")


@pytest.fixture
def partner_b(db):
    return Partner.objects.create(name="Bluefin IT")


@pytest.fixture
def alice(partner_a):
    return make_user("alice@northwind.test", Role.PARTNER_MANAGER, partner=partner_a)


@pytest.fixture
def bob(partner_a):
    return make_user("bob@northwind.test", Role.PARTNER_MANAGER, partner=partner_a)


@pytest.fixture
def charlie(partner_b):
    return make_user("charlie@bluefin.test", Role.PARTNER_MANAGER, partner=partner_b)


@pytest.fixture
def acme(partner_a):
    return make_customer("Acme Manufacturing", partner_a, "acme", time_zone="Europe/London")


@pytest.fixture
def globex(partner_a):
    return make_customer("Globex Retail", partner_a, "globex", time_zone="Europe/Berlin")


@pytest.fixture
def initech(partner_b):
    return make_customer("Initech Finance", partner_b, "initech", time_zone="America/New_York")


@pytest.fixture
def dana(acme):
    return make_user("dana@acme.test", Role.CUSTOMER_MANAGER, customer=acme)


@pytest.fixture
def erin(globex):
    return make_user("erin@globex.test", Role.CUSTOMER_MANAGER, customer=globex)


@pytest.fixture
def frank(initech):
    return make_user("frank@initech.test", Role.CUSTOMER_MANAGER, customer=initech)


@pytest.fixture
def lena(acme):
    """A learner of acme who can sign in, with her Learner row in acme's schema."""
    user = make_user("lena@acme.test", Role.LEARNER, customer=acme)
    with acme:
        Learner.objects.create(email=user.email, name="Lena Lund")
    return user


@pytest.fixture
def world(alice, bob, charlie, acme, globex, initech, dana, erin, frank, lena):
    """Everyone at once, for tests that walk between them."""
    return locals()


@pytest.fixture
def browser():
    """Debian's Chromium driven by Playwright (Playwright's own download cannot work here)."""
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.path.exists(executable):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {executable}; .ci/run installs Debian's chromium package.")
        pytest.skip(f"Chromium is not installed at {executable} (apt-get install chromium).")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # makes around it are ordinary synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
        # While Playwright's loop runs, Django sees another context and opens
        # another connection; close it so the test database can be dropped.
        connections.close_all()


@pytest.fixture
def page(live_server, tenant_transactional_db, browser):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
