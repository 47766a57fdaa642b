"""Fixtures of the notification tests: orders assigned at a chosen moment, a fake
email provider, and Celery retries run in place (helpers: tests.builders)."""

import pytest

from tests.builders import FlakyProviderBackend, assign, assigned_order


@pytest.fixture
def acme_order(acme, alice, dana):
    """Five licences for Acme (London), assigned by Alice on 10 June 2025."""
    return assign(acme, alice)


@pytest.fixture
def ready_order(alice, acme, dana):
    """Twelve licences for Acme, assigned by Alice now (its email is left to the test)."""
    return assigned_order(acme, 12, alice)


@pytest.fixture
def provider(settings):
    settings.EMAIL_BACKEND = "tests.builders.FlakyProviderBackend"
    FlakyProviderBackend.errors, FlakyProviderBackend.accepted = [], 0
    return FlakyProviderBackend


@pytest.fixture
def eager_retries_run_in_place(monkeypatch):
    """Eager tasks run their retries at once, in this thread; with propagation off the
    outcome is read from the result instead of being raised mid-way."""
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)
