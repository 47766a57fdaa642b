"""Catch-up after the scheduler was down: late notices go out once; a 72-hour reminder
that is no longer true is recorded as skipped and the expiry notice sent instead."""

from datetime import timedelta

from licences.models import LicenceOrder, OrderStatus
from notifications import planning, services
from notifications.models import EmailKind, EmailState
from notifications.services import STALE_REMINDER
from tests.builders import (
    EXPIRES,
    EXPIRY_SUBJECT,
    REMINDER_DUE,
    REMINDER_SUBJECT,
    notice,
    run_scheduler,
    sent,
)

OUTAGE = timedelta(hours=6)


def beat_every_five_minutes(start, end, down=None):
    """Beat from ``start`` to ``end``, silent during ``down`` (a (from, to) pair)."""
    moment = start
    while moment <= end:
        if down is None or not down[0] <= moment < down[1]:
            run_scheduler(moment)
        moment += timedelta(minutes=5)


def test_six_hours_down_across_the_opening_of_the_window_sends_the_reminder_once(acme_order, mailoutbox):
    down = (REMINDER_DUE - OUTAGE / 2, REMINDER_DUE + OUTAGE / 2)
    beat_every_five_minutes(down[0] - timedelta(minutes=30), down[1] + timedelta(hours=1), down=down)
    assert len(sent(REMINDER_SUBJECT, acme_order)) == 1
    assert notice(acme_order, EmailKind.REMINDER).sent_at == down[1]


def test_six_hours_down_across_the_expiry_sends_the_expiry_notice_once(acme_order, mailoutbox):
    run_scheduler(REMINDER_DUE)
    down = (EXPIRES - OUTAGE / 2, EXPIRES + OUTAGE / 2)
    beat_every_five_minutes(down[0] - timedelta(minutes=30), down[1] + timedelta(hours=1), down=down)
    assert len(sent(REMINDER_SUBJECT, acme_order)) == 1
    assert len(sent(EXPIRY_SUBJECT, acme_order)) == 1
    assert notice(acme_order, EmailKind.EXPIRY).sent_at == down[1]


def test_down_across_the_whole_window_and_the_expiry_skips_the_stale_reminder(acme_order, mailoutbox):
    """Beat ran last just before the window opened and came back after expiry."""
    run_scheduler(REMINDER_DUE - timedelta(minutes=5))
    beat_every_five_minutes(EXPIRES + timedelta(hours=3), EXPIRES + timedelta(hours=4))
    assert [m.subject for m in mailoutbox] == ["Acme Manufacturing: 5 licences have expired"]
    reminder = notice(acme_order, EmailKind.REMINDER)
    assert (reminder.state, reminder.error, reminder.sent_at) == (EmailState.SKIPPED, STALE_REMINDER, None)
    expiry = notice(acme_order, EmailKind.EXPIRY)
    assert (expiry.state, expiry.sent_at) == (EmailState.SENT, EXPIRES + timedelta(hours=3))


def test_six_hours_down_across_both_the_reminder_and_the_expiry(acme, dana, mailoutbox):
    """An order whose reminder and expiry both fell inside a six-hour outage, like the
    demo's order that expired in the last hour (its licences were assigned
    backdated): the reminder is skipped as stale and the expiry notice sent once."""
    outage_start = EXPIRES - timedelta(hours=3)
    order = LicenceOrder.objects.create(
        customer=acme,
        quantity=3,
        status=OrderStatus.ASSIGNED,
        requested_by=dana,
        assigned_at=EXPIRES - timedelta(days=365),
        expires_at=EXPIRES,
    )
    planning.plan_expiry_emails(order, (72,), EXPIRES - timedelta(days=365), include_past=True)
    run_scheduler(outage_start - timedelta(days=4))  # before the reminder was due
    beat_every_five_minutes(outage_start + OUTAGE, outage_start + OUTAGE + timedelta(hours=1))
    assert [m.subject for m in mailoutbox] == ["Acme Manufacturing: 3 licences have expired"]
    assert notice(order, EmailKind.REMINDER).state == EmailState.SKIPPED
    assert notice(order, EmailKind.EXPIRY).state == EmailState.SENT
    assert not services.due_emails(EXPIRES + timedelta(days=400), 10).exists()


def test_a_backlog_larger_than_a_batch_drains_in_one_beat(acme, alice, dana, settings, mailoutbox):
    """After a long outage more notices are due than one batch holds: the task queues
    the next batch itself instead of waiting for the next beat."""
    from tests.builders import assign

    settings.EXPIRY_SCAN_BATCH_SIZE = 2
    orders = [assign(acme, alice, quantity=n) for n in range(1, 6)]
    run_scheduler(REMINDER_DUE + timedelta(hours=1))
    assert len(sent(REMINDER_SUBJECT)) == 5
    assert all(len(sent(REMINDER_SUBJECT, order)) == 1 for order in orders)
