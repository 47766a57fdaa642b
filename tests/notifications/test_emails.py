"""What the expiry emails say and to whom: the customer's active managers only; the
customer, the number of licences, the expiry moment in the customer's time zone
(right across a DST change), and links to the renewal pages."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Role
from notifications import services
from notifications.ledger import COMPANY_INACTIVE
from notifications.models import EmailKind, EmailState, OrderEmail
from notifications.services import NO_RECIPIENTS
from tests.builders import (
    EXPIRES,
    EXPIRY_SUBJECT,
    REMINDER_DUE,
    REMINDER_SUBJECT,
    assign,
    make_user,
    notice,
    run_scheduler,
    sent,
)


@pytest.mark.parametrize(
    ("customer", "partner_manager", "assigned", "local_expiry", "offset_when_reminded"),
    [
        # New York: assigned in winter (EST); the reminder goes out on 31 October,
        # still on summer time (EDT), for an expiry after the clocks went back.
        ("initech", "charlie", datetime(2025, 11, 3, 14, 0, tzinfo=UTC), "3 November 2026 at 09:00", -4),
        # London: assigned just after the clocks went back; reminded on summer time.
        ("acme", "alice", datetime(2025, 10, 26, 9, 0, tzinfo=UTC), "26 October 2026 at 09:00", 1),
    ],
)
def test_expiry_moment_is_shown_in_the_customers_time_zone_across_dst(
    world, mailoutbox, customer, partner_manager, assigned, local_expiry, offset_when_reminded
):
    customer = world[customer]
    order = assign(customer, world[partner_manager], at=assigned)
    # The wall-clock time is kept: 12 calendar months later, same local time.
    assert order.expires_at.astimezone(customer.tzinfo).hour == 9
    reminder_at = order.expires_at - timedelta(hours=72)
    assert reminder_at.astimezone(customer.tzinfo).utcoffset() == timedelta(hours=offset_when_reminded)

    run_scheduler(reminder_at)
    run_scheduler(order.expires_at)
    reminder, expiry = sent(REMINDER_SUBJECT, order)[0], sent(EXPIRY_SUBJECT, order)[0]
    for message in (reminder, expiry):
        html = message.alternatives[0][0]
        assert f"<strong>{local_expiry}</strong> ({customer.time_zone})" in html
        assert f"{local_expiry} ({customer.time_zone})" in message.body
    assert f"expire on {local_expiry}" in reminder.body
    assert f"expired on {local_expiry}" in expiry.body


def test_the_emails_name_the_customer_the_licences_and_link_to_the_renewal_pages(acme_order, mailoutbox, settings):
    run_scheduler(REMINDER_DUE)
    run_scheduler(EXPIRES)
    reminder, expiry = mailoutbox
    assert reminder.subject == "Acme Manufacturing: 5 licences expire on 10 June 2026"
    assert expiry.subject == "Acme Manufacturing: 5 licences have expired"
    for message in (reminder, expiry):
        html = message.alternatives[0][0]
        assert message.alternatives[0][1] == "text/html"
        for body in (message.body, html):
            assert "Acme Manufacturing" in body
            assert "5 licences" in body.replace("<strong>", "").replace("</strong>", "")
            assert f"order #{acme_order.pk}" in body
            assert f"{settings.SITE_URL}/licences/expired/" in body
            assert f'{settings.SITE_URL}/licences/"' in body or f"{settings.SITE_URL}/licences/\n" in body + "\n"
        assert f"Your licences: {settings.SITE_URL}/licences/" in message.body
        assert "10 June 2026 at 10:30 (Europe/London)" in message.body


def test_recipients_are_exactly_the_active_managers_of_that_customer(world, mailoutbox):
    acme, globex = world["acme"], world["globex"]
    make_user("dan@acme.test", Role.CUSTOMER_MANAGER, customer=acme)
    make_user("olga@acme.test", Role.CUSTOMER_MANAGER, customer=acme, is_active=False)
    make_user("leo@acme.test", Role.LEARNER, customer=acme)
    make_user("gus@globex.test", Role.CUSTOMER_MANAGER, customer=globex)
    acme_order = assign(acme, world["alice"])
    globex_order = assign(globex, world["bob"])
    initech_order = assign(world["initech"], world["charlie"])

    run_scheduler(EXPIRES + timedelta(hours=1))  # one beat, three customers' notices due
    recipients = {order.pk: sent(EXPIRY_SUBJECT, order) for order in (acme_order, globex_order, initech_order)}
    assert [m.to for m in recipients[acme_order.pk]] == [["dan@acme.test", "dana@acme.test"]]
    assert [m.to for m in recipients[globex_order.pk]] == [["erin@globex.test", "gus@globex.test"]]
    assert [m.to for m in recipients[initech_order.pk]] == [["frank@initech.test"]]
    assert len(mailoutbox) == 3
    for message in mailoutbox:
        assert message.cc == [] and message.bcc == []
    assert notice(acme_order, EmailKind.EXPIRY).recipient_count == 2


def test_a_customer_without_an_active_manager_is_recorded_not_emailed(acme, alice, dana, mailoutbox):
    order = assign(acme, alice)
    dana.is_active = False
    dana.save()
    run_scheduler(REMINDER_DUE)
    reminder = notice(order, EmailKind.REMINDER)
    assert (reminder.state, reminder.error, reminder.recipient_count) == (EmailState.SKIPPED, NO_RECIPIENTS, 0)
    assert mailoutbox == []
    assert notice(order, EmailKind.EXPIRY).state == EmailState.PENDING  # still to come


def test_a_deactivated_company_is_recorded_not_emailed(acme, alice, dana, mailoutbox):
    order = assign(acme, alice)
    acme.is_active = False
    acme.save()
    run_scheduler(REMINDER_DUE)
    run_scheduler(EXPIRES)
    assert mailoutbox == []
    assert notice(order, EmailKind.REMINDER).error == COMPANY_INACTIVE
    assert notice(order, EmailKind.EXPIRY).state == EmailState.SKIPPED
    assert not services.due_emails(EXPIRES + timedelta(days=400), 10).exists()


def test_one_licence_reads_in_the_singular(acme, alice, dana, mailoutbox):
    order = assign(acme, alice, quantity=1)
    run_scheduler(REMINDER_DUE)
    run_scheduler(EXPIRES)
    assert [m.subject for m in mailoutbox] == [
        "Acme Manufacturing: 1 licence expires on 10 June 2026",
        "Acme Manufacturing: 1 licence has expired",
    ]
    assert f"1 licence of Acme Manufacturing (order #{order.pk}) expires on 10 June 2026" in mailoutbox[0].body


def test_the_reminder_says_who_loses_access_and_what_to_do(acme, alice, dana, mailoutbox):
    from tests.builders import give_seats, make_learners

    order = assign(acme, alice, quantity=5)
    learners = make_learners(acme, 4)
    give_seats(acme, order, learners)
    run_scheduler(REMINDER_DUE)
    body = mailoutbox[-1].body
    assert "Then 4 learners holding their seats from this order lose access" in body
    assert "4 learners need new licences: request them now: http" in body and "/licences/orders/request/" in body

    # A later order with 3 free seats: 3 may move now, 1 still needs a new licence.
    later = assign(acme, alice, at=REMINDER_DUE - timedelta(days=1), quantity=3)
    mailoutbox.clear()
    OrderEmail.objects.filter(order=order, kind=EmailKind.REMINDER).update(state=EmailState.PENDING, attempts=0)
    run_scheduler(REMINDER_DUE + timedelta(minutes=5))
    body = mailoutbox[-1].body
    assert later.free_seats == 3
    assert "You have 3 free seats in later orders: move 3 of them now with Renew Early on the Expiring Soon tab" in body
    # The link opens the tab with the order's window preselected (the reminder is 72 hours ahead).
    assert "/licences/expiring/?days=7" in body
    assert "1 learner needs new licences" in body
