"""Schedules a partner sets: a default for its customers and a customer's own override;
each change re-plans pending reminders of live orders without duplicates, never
re-sends one already sent, and is audited. After an outage only the latest reminder
still true goes out."""

from datetime import timedelta

import pytest
import time_machine

from accounts.models import AuditEvent
from notifications import preferences
from notifications.models import EmailKind, EmailState, OrderEmail
from notifications.planning import SCHEDULE_CHANGED
from notifications.services import SUPERSEDED_REMINDER
from tests.builders import ASSIGNED, EXPIRES, REMINDER_SUBJECT, assign, notice, run_scheduler, sent

DAY = timedelta(days=1)


def reminders(order):
    return dict(OrderEmail.objects.filter(order=order, kind=EmailKind.REMINDER).values_list("lead_hours", "state"))


def change_partner_schedule(partner, leads, user, at=ASSIGNED + DAY):
    with time_machine.travel(at, tick=False):
        return preferences.set_partner_schedule(partner, leads, acting_user=user)


def test_a_new_order_gets_every_reminder_of_its_partners_schedule(acme, alice, dana):
    change_partner_schedule(acme.partner, [30 * 24, 7 * 24, 72], alice, at=ASSIGNED - DAY)
    order = assign(acme, alice)
    assert reminders(order) == {720: "pending", 168: "pending", 72: "pending"}
    assert notice(order, EmailKind.REMINDER, 720).due_at == EXPIRES - timedelta(days=30)
    assert notice(order, EmailKind.EXPIRY).due_at == EXPIRES


def test_changing_the_default_replans_live_orders_without_duplicates_and_is_audited(acme, globex, alice, dana):
    acme_order, globex_order = assign(acme, alice), assign(globex, alice)
    counts = change_partner_schedule(acme.partner, [7 * 24, 24], alice)
    assert counts == {"orders": 2, "planned": 4, "moved": 0, "dropped": 2}
    assert reminders(acme_order) == reminders(globex_order) == {168: "pending", 24: "pending"}

    # The same schedule again changes nothing and audits nothing.
    assert change_partner_schedule(acme.partner, [24, 7 * 24], alice) is None
    events = AuditEvent.objects.filter(action=AuditEvent.Action.REMINDER_SCHEDULE_CHANGED)
    assert events.count() == 1
    event = events.get()
    assert (event.actor, event.partner, event.customer) == (alice, acme.partner, None)
    assert event.details["before_hours"] == [72] and event.details["after_hours"] == [168, 24]
    assert OrderEmail.objects.filter(order=acme_order, kind=EmailKind.REMINDER).count() == 2


def test_a_reminder_already_sent_is_never_sent_again(acme, alice, dana, mailoutbox):
    order = assign(acme, alice)
    run_scheduler(EXPIRES - timedelta(hours=72))
    assert len(sent(REMINDER_SUBJECT, order)) == 1
    # The partner moves to 7 days and 1 day, then back to 72 hours, after the reminder went out.
    change_partner_schedule(acme.partner, [7 * 24, 24], alice, at=EXPIRES - timedelta(hours=71))
    change_partner_schedule(acme.partner, [72], alice, at=EXPIRES - timedelta(hours=70))
    assert reminders(order) == {72: "sent"}  # the 1-day one was dropped again; 7 days had passed
    for hours in (60, 30, 1):
        run_scheduler(EXPIRES - timedelta(hours=hours))
    assert len(sent(REMINDER_SUBJECT, order)) == 1


def test_a_customer_override_wins_and_can_be_removed(acme, globex, alice, dana):
    acme_order, globex_order = assign(acme, alice), assign(globex, alice)
    with time_machine.travel(ASSIGNED + DAY, tick=False):
        preferences.set_customer_schedule(acme, [14 * 24], acting_user=alice)
    assert reminders(acme_order) == {336: "pending"}
    assert reminders(globex_order) == {72: "pending"}
    change_partner_schedule(acme.partner, [48], alice)
    assert reminders(acme_order) == {336: "pending"}  # follows its own
    assert reminders(globex_order) == {48: "pending"}
    with time_machine.travel(ASSIGNED + 2 * DAY, tick=False):
        preferences.set_customer_schedule(acme, None, acting_user=alice)
    assert reminders(acme_order) == {48: "pending"}
    event = AuditEvent.objects.filter(customer=acme, action=AuditEvent.Action.REMINDER_SCHEDULE_CHANGED).first()
    assert event.details["after_hours"] is None and event.details["before_hours"] == [336]


def test_a_reminder_waiting_to_retry_is_skipped_when_its_lead_goes(acme, alice, dana, provider):
    order = assign(acme, alice)
    from tests.builders import api_error

    provider.errors = [api_error(503, "Service Unavailable")]
    accepted = provider.accepted  # the licences-ready email of the assignment
    run_scheduler(EXPIRES - timedelta(hours=72))
    assert notice(order, EmailKind.REMINDER).state == EmailState.RETRYING
    change_partner_schedule(acme.partner, [24], alice, at=EXPIRES - timedelta(hours=71))
    row = notice(order, EmailKind.REMINDER)
    assert (row.state, row.error) == (EmailState.SKIPPED, SCHEDULE_CHANGED)
    run_scheduler(EXPIRES - timedelta(hours=70))
    assert provider.accepted == accepted


@pytest.mark.parametrize(
    ("down_until", "sent_lead"),
    [(EXPIRES - timedelta(days=10), 720), (EXPIRES - timedelta(days=6), 168), (EXPIRES - timedelta(hours=2), 72)],
    ids=["only-30-day-due", "30-day-found-late-7-day-due", "all-three-due"],
)
def test_after_an_outage_only_the_latest_true_reminder_goes(acme, alice, dana, mailoutbox, down_until, sent_lead):
    change_partner_schedule(acme.partner, [30 * 24, 7 * 24, 72], alice, at=ASSIGNED - DAY)
    order = assign(acme, alice)
    run_scheduler(EXPIRES - timedelta(days=40))  # last beat before the outage
    run_scheduler(down_until)
    run_scheduler(down_until + timedelta(minutes=5))
    assert len(sent(REMINDER_SUBJECT, order)) == 1
    states = reminders(order)
    assert states[sent_lead] == "sent"
    for lead, state in states.items():
        if lead > sent_lead:
            assert state == "skipped"
            assert notice(order, EmailKind.REMINDER, lead).error == SUPERSEDED_REMINDER
        elif lead < sent_lead:
            assert state == "pending"


def test_none_once_the_order_has_expired_then_the_expiry_notice(acme, alice, dana, mailoutbox):
    change_partner_schedule(acme.partner, [30 * 24, 7 * 24, 72], alice, at=ASSIGNED - DAY)
    order = assign(acme, alice)
    run_scheduler(EXPIRES + timedelta(hours=1))
    assert [m.subject for m in mailoutbox] == ["Acme Manufacturing: 5 licences have expired"]
    assert set(reminders(order).values()) == {"skipped"}
