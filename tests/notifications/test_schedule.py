"""On a travelled clock: nothing before the 72-hour window, the reminder inside it,
the expiry notice from expires_at on, each exactly once however often beat runs."""

from datetime import timedelta

from notifications import services
from notifications.models import EmailKind, EmailState, OrderEmail
from tests.builders import (
    ASSIGNED,
    EXPIRES,
    EXPIRY_SUBJECT,
    REMINDER_DUE,
    REMINDER_SUBJECT,
    CaptureStatements,
    CountingBackend,
    assign,
    notice,
    run_scheduler,
    sent,
)

SECOND = timedelta(seconds=1)


def test_assignment_plans_the_reminder_72_hours_before_expiry_and_the_notice_at_expiry(acme_order):
    assert acme_order.expires_at == EXPIRES
    planned = OrderEmail.objects.filter(order=acme_order).order_by("due_at")
    assert [(e.kind, e.lead_hours, e.due_at, e.state) for e in planned] == [
        (EmailKind.LICENCES_READY, 0, ASSIGNED, EmailState.SENT),
        (EmailKind.REMINDER, 72, REMINDER_DUE, EmailState.PENDING),
        (EmailKind.EXPIRY, 0, EXPIRES, EmailState.PENDING),
    ]


def test_nothing_is_sent_before_the_window(acme_order, mailoutbox):
    for moment in (acme_order.assigned_at, EXPIRES - timedelta(days=30), REMINDER_DUE - SECOND):
        run_scheduler(moment)
    assert mailoutbox == []
    assert set(acme_order.emails.values_list("kind", "state")) == {
        (EmailKind.LICENCES_READY, EmailState.SENT),
        (EmailKind.REMINDER, EmailState.PENDING),
        (EmailKind.EXPIRY, EmailState.PENDING),
    }


def test_the_reminder_is_sent_inside_the_window_once(acme_order, mailoutbox):
    run_scheduler(REMINDER_DUE)
    assert len(sent(REMINDER_SUBJECT, acme_order)) == 1
    reminder = notice(acme_order, EmailKind.REMINDER)
    assert reminder.state == EmailState.SENT
    assert reminder.sent_at == REMINDER_DUE
    assert reminder.recipient_count == 1
    assert reminder.attempts == 1
    assert notice(acme_order, EmailKind.EXPIRY).state == EmailState.PENDING

    for moment in (REMINDER_DUE + timedelta(minutes=5), EXPIRES - timedelta(hours=1), EXPIRES - SECOND):
        run_scheduler(moment)
    assert len(mailoutbox) == 1
    assert sent(EXPIRY_SUBJECT) == []


def test_the_expiry_notice_is_sent_at_expires_at_once(acme_order, mailoutbox):
    run_scheduler(REMINDER_DUE)
    run_scheduler(EXPIRES)
    assert len(sent(EXPIRY_SUBJECT, acme_order)) == 1
    expiry = notice(acme_order, EmailKind.EXPIRY)
    assert (expiry.state, expiry.sent_at) == (EmailState.SENT, EXPIRES)
    assert not services.due_emails(EXPIRES + timedelta(days=400), 10).exists()

    for moment in (EXPIRES + timedelta(minutes=5), EXPIRES + timedelta(days=1), EXPIRES + timedelta(days=400)):
        run_scheduler(moment)
    assert len(mailoutbox) == 2
    assert acme_order.emails.filter(state=EmailState.SENT).count() == 3  # with licences ready


def test_each_notice_once_with_beat_every_five_minutes_across_both(acme_order, mailoutbox):
    moment = REMINDER_DUE - timedelta(minutes=12)
    while moment <= EXPIRES + timedelta(hours=2):
        run_scheduler(moment)
        moment += timedelta(minutes=5)
    assert [m.subject for m in mailoutbox] == [
        "Acme Manufacturing: 5 licences expire on 10 June 2026",
        "Acme Manufacturing: 5 licences have expired",
    ]
    reminder, expiry = notice(acme_order, EmailKind.REMINDER), notice(acme_order, EmailKind.EXPIRY)
    # The first beat at or after each moment sent it, late by less than one interval.
    assert REMINDER_DUE <= reminder.sent_at < REMINDER_DUE + timedelta(minutes=5)
    assert EXPIRES <= expiry.sent_at < EXPIRES + timedelta(minutes=5)


def test_a_renewed_order_still_gets_both_notices(acme, alice, dana, acme_order, mailoutbox):
    # The customer bought new licences long before; the old order's seats still expire.
    assign(acme, alice, at=EXPIRES - timedelta(days=20), quantity=50)
    run_scheduler(REMINDER_DUE)
    run_scheduler(EXPIRES)
    assert len(sent(REMINDER_SUBJECT, acme_order)) == 1
    assert len(sent(EXPIRY_SUBJECT, acme_order)) == 1


def test_a_quiet_beat_is_two_queries_whatever_the_number_of_customers(world, mailoutbox):
    """One scan of each ledger table (order emails, seat alerts), on their partial indexes."""
    for customer in (world["acme"], world["globex"]):
        assign(customer, world["alice"])
    assign(world["initech"], world["charlie"])
    with CaptureStatements() as queries:
        run_scheduler(REMINDER_DUE - timedelta(hours=1))
    statements = [" ".join(s.split()) for s in queries.statements]
    assert len(statements) == 2
    assert 'FROM "public".notifications_orderemail WHERE due_at <=' in statements[0]
    assert 'FROM "public".notifications_seatalert WHERE due_at <=' in statements[1]
    # Named with their schema, the scans need no SET search_path before them.
    assert not [q for q in queries.captured_queries if q["sql"].startswith("SET search_path")]


def test_queries_per_notice_are_one_whatever_the_notices_due(world, mailoutbox):
    """A pass costs a fixed few queries per batch (the scans, claim, the orders, the
    managers of their companies, the free seats of later orders, and each partner's
    webhook endpoints) and one per email (its record): no N+1 across customers."""
    first = assign(world["acme"], world["alice"])
    with CaptureStatements() as one:
        run_scheduler(REMINDER_DUE)
    assert len(sent(REMINDER_SUBJECT, first)) == 1
    # the two scans, claim, orders, managers, later free seats, endpoints of Northwind,
    # asynchronous commit on and off for the records, and the record
    assert len(one.statements) == 10

    # Three orders, one per customer (two partners), due a day later; then nine, two days later.
    people = ((world["acme"], "alice"), (world["globex"], "alice"), (world["initech"], "charlie"))
    for customer, manager in people:
        assign(customer, world[manager], at=ASSIGNED + timedelta(days=1))
    for customer, manager in people * 3:
        assign(customer, world[manager], at=ASSIGNED + timedelta(days=2))
    with CaptureStatements() as three:
        run_scheduler(REMINDER_DUE + timedelta(days=1))
    with CaptureStatements() as nine:
        run_scheduler(REMINDER_DUE + timedelta(days=2))
    assert len(sent(REMINDER_SUBJECT)) == 13
    # The same fixed part (one more endpoints query: a second partner), then one per email.
    assert len(three.statements) == 8 + 2 + 3
    assert len(nine.statements) == 8 + 2 + 9


def test_the_copies_of_notices_are_looked_up_once_per_batch(world, mailoutbox):
    """Whether each partner copies its managers on expiry notices: one query for the
    batch's notices, none for its reminders, whatever the number of notices."""
    people = ((world["acme"], "alice"), (world["globex"], "alice"), (world["initech"], "charlie"))
    for customer, manager in people * 2:
        assign(customer, world[manager])
    run_scheduler(REMINDER_DUE)
    with CaptureStatements() as queries:
        run_scheduler(EXPIRES)
    assert len(sent(EXPIRY_SUBJECT)) == 6
    copies = [s for s in queries.statements if "notifications_partnernotificationsettings" in s]
    assert len(copies) == 1


def test_the_scan_finds_what_the_queryset_describes(world):
    """The scan's hand-written SQL and the dry run's queryset agree."""
    orders = [assign(world["acme"], world["alice"], at=ASSIGNED + timedelta(hours=h)) for h in range(5)]
    moment = REMINDER_DUE + timedelta(hours=2, minutes=30)
    due = services.due_email_ids(moment, 100)
    reminders = [notice(order, EmailKind.REMINDER).pk for order in orders]
    assert set(due) == set(reminders[:3])
    assert set(due) == set(services.due_emails(moment, 100).values_list("pk", flat=True))
    assert services.due_email_ids(moment, 2) == reminders[:2]


def test_a_pass_sends_through_one_connection(world, settings, mailoutbox):
    settings.EMAIL_BACKEND = "tests.builders.CountingBackend"
    for customer, manager in ((world["acme"], "alice"), (world["globex"], "alice"), (world["initech"], "charlie")):
        assign(customer, world[manager])
    CountingBackend.made = 0
    run_scheduler(REMINDER_DUE)
    assert len(sent(REMINDER_SUBJECT)) == 3
    assert CountingBackend.made == 1
