"""The order emails (licences ready, licence request) retry transient provider errors
through the ledger, with the same backoff as the reminders, and give up at once on
permanent ones."""

from datetime import timedelta

import time_machine

from licences.services import request_order
from notifications.ledger import retry_backoff
from notifications.models import EmailKind, EmailState
from notifications.tasks import send_licences_ready_email
from tests.builders import api_error, as_if_not_sent, notice, run_scheduler


def test_ready_email_is_retried_after_transient_errors_and_sent_once(ready_order, provider, mailoutbox):
    mailoutbox.clear()
    as_if_not_sent(ready_order, EmailKind.LICENCES_READY)
    provider.errors = [api_error(503, "Service Unavailable"), api_error(429, "Too Many Requests")]
    start = notice(ready_order, EmailKind.LICENCES_READY).due_at

    with time_machine.travel(start, tick=False):
        assert send_licences_ready_email.apply(args=[ready_order.pk]).get() == EmailState.RETRYING
    row = notice(ready_order, EmailKind.LICENCES_READY)
    assert (row.state, row.attempts, row.due_at) == (EmailState.RETRYING, 1, start + retry_backoff(1))
    run_scheduler(start + retry_backoff(1))  # 429: the delay doubles
    assert notice(ready_order, EmailKind.LICENCES_READY).due_at == start + retry_backoff(1) + retry_backoff(2)
    run_scheduler(start + retry_backoff(1) + retry_backoff(2))
    run_scheduler(start + timedelta(hours=1))

    assert provider.accepted == 1
    assert [m.subject for m in mailoutbox] == ["12 new licences ready for allocation at Acme Manufacturing"]
    assert mailoutbox[0].to == ["dana@acme.test"]
    assert notice(ready_order, EmailKind.LICENCES_READY).state == EmailState.SENT


def test_ready_email_is_not_retried_after_a_permanent_error(ready_order, provider, mailoutbox):
    mailoutbox.clear()
    as_if_not_sent(ready_order, EmailKind.LICENCES_READY)
    provider.errors = [api_error(422, "Unprocessable Entity")]

    assert send_licences_ready_email.apply(args=[ready_order.pk]).get() == EmailState.FAILED
    run_scheduler(notice(ready_order, EmailKind.LICENCES_READY).due_at + timedelta(hours=3))

    assert provider.accepted == 0
    assert mailoutbox == []


def test_request_email_gives_up_after_the_retry_limit(dana, alice, acme, provider, mailoutbox, settings):
    settings.EXPIRY_MAX_SEND_ATTEMPTS = 7
    provider.errors = [api_error(503, "Service Unavailable")] * 10
    order = request_order(acme, 3, acting_user=dana)  # the first try, on commit
    moment = notice(order, EmailKind.LICENCE_REQUEST).due_at
    for attempt in range(1, 10):
        moment += retry_backoff(attempt)
        run_scheduler(moment)

    row = notice(order, EmailKind.LICENCE_REQUEST)
    assert (row.state, row.attempts) == (EmailState.FAILED, 7)
    assert "503" in row.error
    assert len(provider.errors) == 10 - 7  # the first try and six retries
    assert mailoutbox == []
