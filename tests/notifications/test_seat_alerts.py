"""Seat alerts: a customer's managers hear once per episode that new learners wait
without a free licence (and, if the partner turned it on, when 90 % are used); the
episode ends when seats are free again, and the next exhaustion is a new one."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, User
from api.models import WebhookMessage
from learners.roster import add_learner, deactivate_learner
from notifications import seat_alerts, services
from notifications.models import EmailState, SeatAlert, SeatAlertKind
from tests.builders import add_webhook_endpoint, assigned_order, race

EXHAUSTED_SUBJECT = "No free licences at Acme Manufacturing"


def alerts(kind=SeatAlertKind.EXHAUSTED):
    return list(SeatAlert.objects.filter(kind=kind).order_by("pk"))


def alert_emails():
    return [m for m in mail.outbox if m.subject.startswith(EXHAUSTED_SUBJECT)]


def add(customer, n, by):
    return add_learner(customer, f"learner{n}@acme.test", acting_user=by)


@pytest.fixture
def one_seat(acme, alice, dana):
    """Acme with one licence, taken by its first learner."""
    assigned_order(acme, 1, alice)
    first = add(acme, 1, dana)
    assert first.got_licence
    mail.outbox.clear()
    return first.learner


def test_no_alert_while_nobody_waits(one_seat, acme):
    # No free seat left, but every learner has one.
    assert alerts() == []
    assert services.send_due_emails().scanned == 0


def test_a_waiting_learner_alerts_the_managers_once_per_episode(one_seat, acme, dana, mailoutbox):
    assert not add(acme, 2, dana).got_licence
    assert not add(acme, 3, dana).got_licence  # the same episode: planned once
    [alert] = alerts()
    assert alert.ended_at is None and alert.waiting == 1

    summary = services.send_due_emails()
    assert summary.outcomes["sent"] == 1
    [email] = alert_emails()
    assert email.to == ["dana@acme.test"]
    assert email.subject == f"{EXHAUSTED_SUBJECT}: 2 learners waiting"
    assert "2 new learners are waiting" in email.body
    assert "1 of 1 licence are in use" in email.body
    assert reverse("licences:request_licences") in email.body
    html = email.alternatives[0][0]
    assert "Request Licences" in html and reverse("licences:request_licences") in html

    add(acme, 4, dana)
    services.send_due_emails(now=timezone.now() + timedelta(hours=1))
    assert len(alert_emails()) == 1
    alert.refresh_from_db()
    assert alert.state == EmailState.SENT and alert.recipient_count == 1


def test_seats_freed_end_the_episode_and_a_later_exhaustion_is_a_new_one(one_seat, acme, dana, mailoutbox):
    add(acme, 2, dana)
    services.send_due_emails()
    assert len(alert_emails()) == 1

    # Learner 1 leaves: a seat is free again, the episode is over.
    deactivate_learner(acme, one_seat.pk, acting_user=dana)
    [first] = alerts()
    assert first.ended_at is not None

    # Learner 3 takes the freed seat; learner 2 still waits, and seats ran out again.
    assert add(acme, 3, dana).got_licence
    first_episode, second_episode = alerts()
    assert second_episode.ended_at is None and second_episode.pk != first_episode.pk
    services.send_due_emails()
    assert len(alert_emails()) == 2
    assert alert_emails()[1].subject == f"{EXHAUSTED_SUBJECT}: 1 learner waiting"


def test_an_order_assigned_before_the_alert_went_out_ends_it_unsent(one_seat, acme, alice, dana, mailoutbox):
    add(acme, 2, dana)
    assigned_order(acme, 5, alice)
    [alert] = alerts()
    assert alert.ended_at is not None
    services.send_due_emails()
    alert.refresh_from_db()
    assert alert.state == EmailState.SKIPPED and alert.error == seat_alerts.EPISODE_OVER
    assert alert_emails() == []


def test_the_seats_exhausted_webhook_goes_with_the_alert(one_seat, acme, alice, dana):
    add_webhook_endpoint(alice, "http://127.0.0.1:9/hook", "seats.exhausted")
    add(acme, 2, dana)
    [message] = WebhookMessage.objects.filter(event_type="seats.exhausted")
    assert message.payload["data"]["waiting"] == 1
    assert message.payload["data"]["pool"] == {"total": 1, "allocated": 1, "free": 0}
    assert len(alerts()) == 1


def test_the_90_percent_alert_is_off_unless_turned_on(acme, alice, dana, mailoutbox):
    assigned_order(acme, 10, alice)
    for n in range(9):
        add(acme, n, dana)
    assert alerts(SeatAlertKind.NEARLY_FULL) == []

    assert seat_alerts.set_alert_at_90_percent(acme, True, acting_user=alice)
    assert not seat_alerts.set_alert_at_90_percent(acme, True, acting_user=alice)  # unchanged, not audited
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.SEAT_ALERTS_CHANGED)
    assert event.actor == alice and event.customer == acme
    assert event.details == {"alert_at_90_percent": {"before": False, "after": True}}
    # Turned on at 90 %: it alerts now, once.
    [alert] = alerts(SeatAlertKind.NEARLY_FULL)
    add(acme, 9, dana)  # 100 %: still the same episode
    assert alerts(SeatAlertKind.NEARLY_FULL) == [alert]
    services.send_due_emails()
    [email] = mail.outbox
    assert email.to == ["dana@acme.test"]
    assert email.subject == "100 % of Acme Manufacturing's licences are in use"
    assert "10 of 10 licences of Acme Manufacturing are in use (100 %); 0 are free." in email.body
    assert reverse("licences:request_licences") in email.body


def test_the_90_percent_alert_crossing_again_after_dropping_below(acme, alice, dana, mailoutbox):
    seat_alerts.set_alert_at_90_percent(acme, True, acting_user=alice)
    assigned_order(acme, 10, alice)
    learners = [add(acme, n, dana).learner for n in range(9)]
    services.send_due_emails()
    assert [m.subject for m in mail.outbox] == ["90 % of Acme Manufacturing's licences are in use"]

    deactivate_learner(acme, learners[0].pk, acting_user=dana)  # 80 %: the episode ends
    assert alerts(SeatAlertKind.NEARLY_FULL)[0].ended_at is not None
    add(acme, 20, dana)  # 90 % again: a new episode
    services.send_due_emails()
    assert len(mail.outbox) == 2

    # Turned off: a pending alert is not sent.
    deactivate_learner(acme, learners[1].pk, acting_user=dana)
    add(acme, 21, dana)
    seat_alerts.set_alert_at_90_percent(acme, False, acting_user=alice)
    services.send_due_emails()
    assert len(mail.outbox) == 2
    assert alerts(SeatAlertKind.NEARLY_FULL)[-1].error == seat_alerts.ALERT_TURNED_OFF


def test_two_learners_added_at_once_alert_once(tenant_transactional_db, acme, alice, dana, mailoutbox):
    assigned_order(acme, 1, alice)
    add(acme, 0, dana)
    mail.outbox.clear()
    names = iter(range(1, 3))

    def add_one():
        add(acme, next(names), dana)  # each commit queues the alert's task (eager here)

    race(2, timezone.now(), add_one)
    race(2, timezone.now() + timedelta(minutes=5), services.send_due_emails)
    assert len(alerts()) == 1
    assert len(alert_emails()) == 1
    assert alerts()[0].state == EmailState.SENT


def test_the_customer_settings_page_turns_the_90_percent_alert_on(client, acme, alice, initech):
    client.force_login(alice)
    url = reverse("notifications:customer_seat_alerts", args=[acme.pk])
    response = client.post(url, {"alert_at_90_percent": "on"})
    assert response.status_code == 302
    assert seat_alerts.alert_at_90_percent(acme)
    page = client.get(reverse("notifications:customer_settings", args=[acme.pk]))
    assert b'name="alert_at_90_percent" id="id_alert_at_90_percent" checked' in page.content
    client.post(url, {})
    assert not seat_alerts.alert_at_90_percent(acme)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SEAT_ALERTS_CHANGED).count() == 2
    # Another partner's customer is not found.
    assert client.post(reverse("notifications:customer_seat_alerts", args=[initech.pk]), {}).status_code == 404


def test_the_operators_tools_cover_seat_alerts(client, one_seat, acme, dana, monkeypatch):
    from io import StringIO

    from django.contrib import admin
    from django.core.management import call_command

    from tests.builders import sign_in_with_code

    add(acme, 2, dana)

    def run(*args):
        out = StringIO()
        call_command(*args, stdout=out)
        return out.getvalue()

    dry = run("send_expiry_notifications", "--dry-run")
    assert "1 email(s) due" in dry
    assert "Acme Manufacturing" in dry and "send seat alert (no free licences) → dana@acme.test" in dry
    assert SeatAlert.objects.get().state == EmailState.PENDING
    status = run("notification_status")
    assert "Seat alerts: seats_exhausted/pending 1" in status and "Seat alerts due now: 1" in status
    assert "Scanned 1 due email(s)" in run("send_expiry_notifications")
    listed = run("notification_status", "--kind", "seats_exhausted", "--state", "sent")
    assert "Acme Manufacturing" in listed and "open" in listed

    monkeypatch.setattr(admin.site, "enable_nav_sidebar", False)
    operator = User.objects.create_superuser("ops@example.test", "a-long-operator-password")
    sign_in_with_code(client, operator)
    page = client.get("/admin/notifications/seatalert/").content.decode()
    assert "Acme Manufacturing" in page and "/admin/notifications/seatalert/add/" not in page
    assert client.get("/admin/notifications/seatalertsettings/").status_code == 200


def test_seats_free_when_the_alert_goes_out_end_the_episode_unsent(one_seat, acme, alice, dana, mailoutbox):
    from licences.models import LicenceOrder

    add(acme, 2, dana)
    # More seats arrive without the review (as if an assignment raced the add).
    LicenceOrder.objects.filter(customer=acme).update(quantity=5)
    services.send_due_emails()
    [alert] = alerts()
    assert alert.state == EmailState.SKIPPED and alert.error == seat_alerts.EPISODE_OVER
    assert alert.ended_at is not None and alert_emails() == []
