"""Exactly once under faults: runs racing each other, and a worker that dies after
claiming a notice and before sending it."""

from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from notifications import services
from notifications.models import EmailKind, EmailState, OrderEmail
from notifications.tasks import send_due_expiry_notifications
from tests.builders import (
    EXPIRES,
    EXPIRY_SUBJECT,
    REMINDER_DUE,
    REMINDER_SUBJECT,
    SlowProviderBackend,
    assign,
    notice,
    race,
    run_scheduler,
    sent,
)


class WorkerDied(BaseException):  # noqa: N818  (not an error the code may catch: the process is gone)
    """Stands for the worker process being killed mid-send (OOM, deploy, power)."""


class DyingProviderBackend(EmailBackend):
    """The worker dies while talking to the provider, the first time only."""

    deaths = 0

    def send_messages(self, messages):
        if DyingProviderBackend.deaths:
            DyingProviderBackend.deaths -= 1
            raise WorkerDied
        return super().send_messages(messages)


@pytest.mark.parametrize("runs", [2, 4])
def test_runs_at_the_same_moment_send_each_notice_once(tenant_transactional_db, world, settings, runs):
    settings.EMAIL_BACKEND = f"{SlowProviderBackend.__module__}.SlowProviderBackend"
    orders = [assign(world[c], world[m]) for c, m in [("acme", "alice"), ("globex", "alice"), ("initech", "charlie")]]
    orders += [assign(world["acme"], world["alice"], quantity=n) for n in (7, 9, 11)]
    mail.outbox.clear()  # the licences-ready emails of the assignments

    race(runs, REMINDER_DUE, lambda: send_due_expiry_notifications())
    reminders = Counter(o.pk for o in orders for m in sent(REMINDER_SUBJECT, o))
    assert reminders == {o.pk: 1 for o in orders}

    race(runs, EXPIRES, lambda: services.send_due_emails())
    expiries = Counter(o.pk for o in orders for m in sent(EXPIRY_SUBJECT, o))
    assert expiries == {o.pk: 1 for o in orders}
    assert len(mail.outbox) == 2 * len(orders)
    states = Counter(OrderEmail.objects.exclude(kind=EmailKind.LICENCES_READY).values_list("kind", "state"))
    assert states == {(EmailKind.REMINDER, "sent"): len(orders), (EmailKind.EXPIRY, "sent"): len(orders)}
    assert set(OrderEmail.objects.values_list("attempts", flat=True)) == {1}


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_the_timeout(acme_order, settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.DyingProviderBackend"
    DyingProviderBackend.deaths = 1
    with pytest.raises(WorkerDied):
        run_scheduler(REMINDER_DUE)
    reminder = notice(acme_order, EmailKind.REMINDER)
    assert (reminder.state, reminder.attempts, reminder.claimed_at) == (EmailState.CLAIMED, 1, REMINDER_DUE)
    assert mailoutbox == []

    # Within the timeout the claim may still be a live worker's: nobody touches it.
    timeout = timedelta(seconds=settings.EXPIRY_CLAIM_TIMEOUT_SECONDS)
    assert timeout == timedelta(minutes=15)
    run_scheduler(REMINDER_DUE + timedelta(minutes=5))
    run_scheduler(REMINDER_DUE + timeout - timedelta(seconds=1))
    assert mailoutbox == []
    assert notice(acme_order, EmailKind.REMINDER).state == EmailState.CLAIMED

    run_scheduler(REMINDER_DUE + timeout)
    reminder = notice(acme_order, EmailKind.REMINDER)
    assert (reminder.state, reminder.attempts) == (EmailState.SENT, 2)
    assert len(sent(REMINDER_SUBJECT, acme_order)) == 1

    run_scheduler(REMINDER_DUE + timeout + timedelta(minutes=5))
    run_scheduler(EXPIRES)
    assert len(sent(REMINDER_SUBJECT, acme_order)) == 1
    assert len(sent(EXPIRY_SUBJECT, acme_order)) == 1


def test_a_dead_claim_on_the_reminder_at_expiry_gives_way_to_the_expiry_notice(acme_order, settings, mailoutbox):
    """The worker died on the reminder a few minutes before expiry: after the timeout
    the reminder is no longer true, so it is skipped and the expiry notice sent."""
    settings.EMAIL_BACKEND = f"{__name__}.DyingProviderBackend"
    DyingProviderBackend.deaths = 1
    with pytest.raises(WorkerDied):
        # Beat was down until five minutes before expiry.
        run_scheduler(EXPIRES - timedelta(minutes=5))
    run_scheduler(EXPIRES + timedelta(minutes=10))
    reminder, expiry = notice(acme_order, EmailKind.REMINDER), notice(acme_order, EmailKind.EXPIRY)
    assert reminder.state == EmailState.SKIPPED
    assert expiry.state == EmailState.SENT
    assert [m.subject for m in mailoutbox] == ["Acme Manufacturing: 5 licences have expired"]


def test_a_run_that_finds_the_order_held_by_another_leaves_it(acme_order, mailoutbox):
    """The claim's lease hides the email from other scans until it ends."""
    reminder = notice(acme_order, EmailKind.REMINDER)
    claim = services.claim(reminder.pk, REMINDER_DUE)
    assert claim is not None and claim.kind == EmailKind.REMINDER
    assert services.claim(reminder.pk, REMINDER_DUE + timedelta(minutes=1)) is None
    summary = services.send_due_emails(now=REMINDER_DUE + timedelta(minutes=1))
    assert (summary.scanned, summary.claimed) == (0, 0)
    assert mailoutbox == []
    assert services.deliver(claim, REMINDER_DUE) == EmailState.SENT
    assert len(mailoutbox) == 1


def test_a_reminder_being_sent_at_expiry_is_finished_before_the_expiry_notice(acme_order, mailoutbox):
    """A reminder claimed a minute before expiry holds the order past expiry: the
    expiry notice waits for it and goes out after it, not alongside."""
    claim = services.claim(notice(acme_order, EmailKind.REMINDER).pk, EXPIRES - timedelta(minutes=1))
    summary = services.send_due_emails(now=EXPIRES + timedelta(seconds=30))
    # The expiry notice is due, but waits for the reminder being sent.
    assert (summary.scanned, summary.claimed, summary.outcomes["held_elsewhere"]) == (1, 0, 1)
    assert notice(acme_order, EmailKind.EXPIRY).state == EmailState.PENDING
    assert services.deliver(claim, EXPIRES - timedelta(minutes=1)) == EmailState.SENT
    run_scheduler(EXPIRES + timedelta(minutes=1))
    assert [m.subject for m in mailoutbox] == [
        "Acme Manufacturing: 5 licences expire on 10 June 2026",
        "Acme Manufacturing: 5 licences have expired",
    ]
    assert notice(acme_order, EmailKind.REMINDER).state == EmailState.SENT
