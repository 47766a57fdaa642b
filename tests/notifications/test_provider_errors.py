"""Provider errors: transient ones are retried with backoff and the notice goes out
once; permanent ones (and transient ones that never clear) are recorded as failed,
with the provider's answer, for operators to see."""

import smtplib
from datetime import timedelta

import pytest
from anymail.exceptions import AnymailRecipientsRefused, AnymailRequestsAPIError
from django.core.management import call_command

from notifications import services
from notifications.ledger import is_transient, retry_backoff
from notifications.models import EmailKind, EmailState
from notifications.services import STALE_REMINDER
from tests.builders import (
    EXPIRES,
    EXPIRY_SUBJECT,
    REMINDER_DUE,
    REMINDER_SUBJECT,
    api_error,
    email_due_at,
    notice,
    run_scheduler,
    sent,
)

MINUTE = timedelta(minutes=1)


def test_a_transient_error_is_retried_with_backoff_then_sent_once(acme_order, provider, mailoutbox):
    provider.errors = [api_error(503, "Service Unavailable"), api_error(429, "Too Many Requests")]

    run_scheduler(REMINDER_DUE)
    reminder = notice(acme_order, EmailKind.REMINDER)
    assert (reminder.state, reminder.attempts) == (EmailState.RETRYING, 1)
    assert "503" in reminder.error
    assert reminder.due_at == REMINDER_DUE + 5 * MINUTE

    run_scheduler(REMINDER_DUE + 4 * MINUTE)  # backoff not over: not retried yet
    assert notice(acme_order, EmailKind.REMINDER).attempts == 1

    run_scheduler(REMINDER_DUE + 5 * MINUTE)  # second attempt: 429, backoff doubles
    reminder = notice(acme_order, EmailKind.REMINDER)
    assert (reminder.state, reminder.attempts) == (EmailState.RETRYING, 2)
    assert reminder.due_at == REMINDER_DUE + 15 * MINUTE

    run_scheduler(REMINDER_DUE + 15 * MINUTE)  # the provider is back
    reminder = notice(acme_order, EmailKind.REMINDER)
    assert (reminder.state, reminder.attempts, reminder.error) == (EmailState.SENT, 3, "")
    assert reminder.message_id == "<msg-1@provider>"
    assert len(sent(REMINDER_SUBJECT, acme_order)) == 1

    for moment in (REMINDER_DUE + 20 * MINUTE, REMINDER_DUE + timedelta(hours=3), EXPIRES - MINUTE):
        run_scheduler(moment)
    assert len(mailoutbox) == 1
    run_scheduler(EXPIRES)
    assert len(sent(EXPIRY_SUBJECT, acme_order)) == 1
    assert notice(acme_order, EmailKind.EXPIRY).message_id == "<msg-2@provider>"


@pytest.mark.parametrize(
    "error",
    [
        AnymailRecipientsRefused(),
        api_error(422, "Unprocessable Entity"),
        smtplib.SMTPRecipientsRefused({"dana@acme.test": (550, b"No such user")}),
    ],
    ids=["recipients-refused", "api-4xx", "smtp-550"],
)
def test_a_permanent_error_is_recorded_as_failed_and_not_retried(acme_order, provider, mailoutbox, error):
    provider.errors = [error]
    run_scheduler(REMINDER_DUE)
    reminder = notice(acme_order, EmailKind.REMINDER)
    assert (reminder.state, reminder.attempts, reminder.sent_at) == (EmailState.FAILED, 1, None)
    assert type(error).__name__ in reminder.error
    assert email_due_at(acme_order, EmailKind.EXPIRY) == EXPIRES  # the expiry notice is still to come

    run_scheduler(REMINDER_DUE + timedelta(hours=1))
    assert notice(acme_order, EmailKind.REMINDER).attempts == 1
    assert sent(REMINDER_SUBJECT) == []
    run_scheduler(EXPIRES)
    assert len(sent(EXPIRY_SUBJECT, acme_order)) == 1


def test_a_transient_error_that_never_clears_fails_after_the_last_attempt(acme_order, provider, settings, capsys):
    settings.EXPIRY_MAX_SEND_ATTEMPTS = 3
    provider.errors = [ConnectionRefusedError(111, "Connection refused")] * 3
    run_scheduler(EXPIRES)
    run_scheduler(EXPIRES + 5 * MINUTE)
    run_scheduler(EXPIRES + 15 * MINUTE)
    expiry = notice(acme_order, EmailKind.EXPIRY)
    assert (expiry.state, expiry.attempts) == (EmailState.FAILED, 3)
    assert "Connection refused" in expiry.error
    assert not services.due_emails(EXPIRES + timedelta(days=400), 10).exists()

    # Shown to operators.
    call_command("notification_status", "--state", "failed")
    output = capsys.readouterr().out
    assert "expiry/failed 1" in output
    assert "ConnectionRefusedError: [Errno 111] Connection refused" in output


def test_a_reminder_still_failing_at_expiry_is_skipped_and_the_expiry_notice_sent(acme_order, provider, mailoutbox):
    """Retries never push past the expiry: the reminder is no longer true by then."""
    provider.errors = [api_error(500, "Internal Server Error")] * 6
    moment = EXPIRES - timedelta(minutes=20)
    run_scheduler(moment)  # 500; retry at -15 min
    run_scheduler(moment + 5 * MINUTE)  # 500; retry at -5 min
    run_scheduler(moment + 15 * MINUTE)  # 500; the retry (20 min) would be after expiry
    assert email_due_at(acme_order, EmailKind.REMINDER) == EXPIRES
    provider.errors = []
    run_scheduler(EXPIRES)
    reminder = notice(acme_order, EmailKind.REMINDER)
    assert (reminder.state, reminder.error) == (EmailState.SKIPPED, STALE_REMINDER)
    assert [m.subject for m in mailoutbox] == ["Acme Manufacturing: 5 licences have expired"]


def test_backoff_doubles_from_five_minutes_up_to_two_hours():
    assert [retry_backoff(n) for n in range(1, 8)] == [timedelta(minutes=m) for m in (5, 10, 20, 40, 80, 120, 120)]


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (api_error(500, "Internal Server Error"), True),
        (api_error(503, "Service Unavailable"), True),
        (api_error(429, "Too Many Requests"), True),
        (AnymailRequestsAPIError("connection reset"), True),  # no response at all
        (api_error(400, "Bad Request"), False),
        (api_error(401, "Unauthorized"), False),
        (AnymailRecipientsRefused(), False),
        (smtplib.SMTPServerDisconnected("gone"), True),
        (smtplib.SMTPDataError(451, b"try again later"), True),
        (smtplib.SMTPDataError(554, b"rejected"), False),
        (smtplib.SMTPRecipientsRefused({"a@b.test": (450, b"mailbox busy")}), True),
        (smtplib.SMTPRecipientsRefused({"a@b.test": (550, b"no such user")}), False),
        (TimeoutError("timed out"), True),
        (ConnectionResetError(), True),
    ],
)
def test_which_errors_are_worth_a_retry(error, transient):
    assert is_transient(error) is transient
