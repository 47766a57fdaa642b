"""The order emails (licences ready, licence request) retry transient provider errors
and give up at once on permanent ones."""

import pytest

from licences.services import assign_order, request_order
from notifications.tasks import send_licence_request_email, send_licences_ready_email
from tests.notifications.test_provider_errors import FlakyProviderBackend, api_error


@pytest.fixture(autouse=True)
def _eager_retries_run_in_place(monkeypatch):
    """Eager tasks run their retries at once, in this thread; with propagation off the
    retries' outcome is read from the result instead of being raised mid-way."""
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


@pytest.fixture
def provider(settings):
    settings.EMAIL_BACKEND = f"{FlakyProviderBackend.__module__}.FlakyProviderBackend"
    FlakyProviderBackend.errors, FlakyProviderBackend.accepted = [], 0
    return FlakyProviderBackend


@pytest.fixture
def order(alice, acme, dana):
    return assign_order(request_order(acme, 12, acting_user=alice, in_manage_mode=True).pk, acting_user=alice)


def test_ready_email_is_retried_after_transient_errors_and_sent_once(order, provider, mailoutbox):
    provider.errors = [api_error(503, "Service Unavailable"), api_error(429, "Too Many Requests")]

    send_licences_ready_email.apply(args=[order.pk])

    assert provider.accepted == 1
    assert [m.subject for m in mailoutbox] == ["12 new licences ready for allocation at Acme Manufacturing"]
    assert mailoutbox[0].to == ["dana@acme.test"]


def test_ready_email_is_not_retried_after_a_permanent_error(order, provider, mailoutbox):
    provider.errors = [api_error(422, "Unprocessable Entity")]

    result = send_licences_ready_email.apply(args=[order.pk])

    assert result.failed()
    assert provider.accepted == 0
    assert mailoutbox == []


def test_request_email_gives_up_after_the_retry_limit(dana, alice, acme, provider, mailoutbox):
    order = request_order(acme, 3, acting_user=dana)
    provider.errors = [api_error(503, "Service Unavailable")] * 10

    result = send_licence_request_email.apply(args=[order.pk])

    assert result.failed()
    assert len(provider.errors) == 10 - 7  # the first try and six retries
    assert mailoutbox == []
