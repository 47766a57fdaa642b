"""The order emails (licences ready, licence request) retry transient provider errors
and give up at once on permanent ones."""

import pytest

from licences.services import request_order
from notifications.tasks import send_licence_request_email, send_licences_ready_email
from tests.builders import api_error

# Retries run at once, in this thread; their outcome is read from the task's result.
pytestmark = pytest.mark.usefixtures("eager_retries_run_in_place")


def test_ready_email_is_retried_after_transient_errors_and_sent_once(ready_order, provider, mailoutbox):
    provider.errors = [api_error(503, "Service Unavailable"), api_error(429, "Too Many Requests")]

    send_licences_ready_email.apply(args=[ready_order.pk])

    assert provider.accepted == 1
    assert [m.subject for m in mailoutbox] == ["12 new licences ready for allocation at Acme Manufacturing"]
    assert mailoutbox[0].to == ["dana@acme.test"]


def test_ready_email_is_not_retried_after_a_permanent_error(ready_order, provider, mailoutbox):
    provider.errors = [api_error(422, "Unprocessable Entity")]

    result = send_licences_ready_email.apply(args=[ready_order.pk])

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
