"""Operators' tools: send_expiry_notifications (and --dry-run), notification_status,
and the read-only Django admin page of the ledger."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from notifications.models import EmailKind, EmailState, OrderEmail
from tests.builders import ASSIGNED, REMINDER_DUE, assign, notice, run_scheduler, sign_in_with_code


def command(name, *args, at):
    from io import StringIO

    out, err = StringIO(), StringIO()
    with time_machine.travel(at, tick=False):
        call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.fixture
def two_due(world):
    """Acme's order has its reminder due, Initech's has expired without a reminder."""
    acme_order = assign(world["acme"], world["alice"])
    initech_order = assign(world["initech"], world["charlie"], at=ASSIGNED - timedelta(days=4))
    return acme_order, initech_order


def test_dry_run_lists_what_would_be_sent_and_claims_nothing(two_due, mailoutbox):
    acme_order, initech_order = two_due
    output = command("send_expiry_notifications", "--dry-run", at=REMINDER_DUE + timedelta(hours=1))
    assert "3 email(s) due" in output
    assert (
        f"order #{acme_order.pk} · Acme Manufacturing · 5 licences · expires 2026-06-10 10:30 Europe/London" in output
    )
    assert "send 72-hour reminder → dana@acme.test" in output
    assert f"order #{initech_order.pk} · Initech Finance" in output
    assert "send licence expiry → frank@initech.test" in output
    assert (
        "skip 72-hour reminder (the licences had expired before this reminder went out) → frank@initech.test" in output
    )
    assert mailoutbox == []
    assert set(OrderEmail.objects.exclude(kind=EmailKind.LICENCES_READY).values_list("state", flat=True)) == {
        EmailState.PENDING
    }


def test_dry_run_with_nothing_due(world):
    assert "No email is due." in command("send_expiry_notifications", "--dry-run", at=REMINDER_DUE)


def test_the_command_runs_the_same_logic_once(two_due, mailoutbox):
    acme_order, initech_order = two_due
    output = command("send_expiry_notifications", at=REMINDER_DUE + timedelta(hours=1))
    assert "Scanned 3 due email(s) in 1 batch(es); claimed 3: sent 2, skipped 1." in output
    assert notice(acme_order, EmailKind.REMINDER).state == EmailState.SENT
    assert notice(initech_order, EmailKind.REMINDER).state == EmailState.SKIPPED
    assert notice(initech_order, EmailKind.EXPIRY).state == EmailState.SENT
    assert len(mailoutbox) == 2

    again = command("send_expiry_notifications", at=REMINDER_DUE + timedelta(hours=1))
    assert "Scanned 0 due email(s)" in again
    assert len(mailoutbox) == 2


def test_the_command_refuses_a_silly_batch_size(world):
    with pytest.raises(CommandError):
        command("send_expiry_notifications", "--batch-size", "0", at=REMINDER_DUE)


def test_notification_status_filters_by_customer_kind_and_state(two_due):
    acme_order, initech_order = two_due
    run_scheduler(REMINDER_DUE + timedelta(hours=1))
    at = REMINDER_DUE + timedelta(hours=2)

    everything = command("notification_status", at=at)
    assert (
        "Emails: expiry/pending 1, expiry/sent 1, licences_ready/sent 2, reminder/sent 1, reminder/skipped 1"
        in everything
    )
    assert "Emails due now: 0" in everything
    assert everything.count("Acme Manufacturing") == 3 and everything.count("Initech Finance") == 3

    acme_only = command("notification_status", "--customer", "acme", at=at)
    assert "Acme Manufacturing" in acme_only and "Initech" not in acme_only
    by_id = command("notification_status", "--customer", str(initech_order.customer_id), at=at)
    assert "Initech Finance" in by_id and "Acme" not in by_id

    skipped = command("notification_status", "--kind", "reminder", "--state", "skipped", at=at)
    assert "Emails: reminder/skipped 1" in skipped
    assert "Not sent: the licences had expired before this reminder went out." in skipped
    assert "Acme" not in skipped


def test_notification_status_rejects_an_unknown_state(world):
    with pytest.raises(CommandError):
        command("notification_status", "--state", "lost", at=REMINDER_DUE)


def test_the_admin_shows_the_ledger_read_only_with_filters(client, two_due, monkeypatch):
    # django-tenants' admin app list (the sidebar) needs request.tenant, which is
    # None in the public schema here: reported; the ledger page itself is tested.
    monkeypatch.setattr(admin.site, "enable_nav_sidebar", False)
    acme_order, _ = two_due
    run_scheduler(REMINDER_DUE + timedelta(hours=1))
    operator = User.objects.create_superuser("ops@platform.test", "correct-horse-battery")
    sign_in_with_code(client, operator)

    page = client.get("/admin/notifications/orderemail/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme Manufacturing" in html and "Initech Finance" in html
    assert "By kind" in html and "By state" in html
    assert "/admin/notifications/orderemail/add/" not in html

    filtered = client.get("/admin/notifications/orderemail/", {"state__exact": "skipped"}).content.decode()
    assert "Initech Finance" in filtered and "Acme Manufacturing" not in filtered
    searched = client.get("/admin/notifications/orderemail/", {"q": "acme"}).content.decode()
    assert "Acme Manufacturing" in searched and "Initech Finance" not in searched

    row = notice(acme_order, EmailKind.REMINDER)
    assert client.get("/admin/notifications/orderemail/add/").status_code == 403
    detail = client.post(f"/admin/notifications/orderemail/{row.pk}/change/", {"state": "claimed"})
    assert detail.status_code == 403
    assert notice(acme_order, EmailKind.REMINDER).state == EmailState.SENT


def test_replan_reminders_dry_run_then_for_one_customer_or_all(world):
    from notifications.models import CustomerNotificationSettings, PartnerNotificationSettings

    acme_order = assign(world["acme"], world["alice"])
    globex_order = assign(world["globex"], world["alice"])
    # Settings written behind the pages' back (as a restore would): nothing re-planned yet.
    PartnerNotificationSettings.objects.create(partner=world["alice"].partner, reminder_leads=[168])
    CustomerNotificationSettings.objects.create(customer=world["globex"], reminder_leads=[24])
    at = ASSIGNED + timedelta(days=1)

    dry = command("replan_reminders", "--all", "--dry-run", at=at)
    assert "2 order(s) would change (dry run):" in dry
    assert f"order #{acme_order.pk} · Acme Manufacturing: schedule 7 days; add 7 days; drop 72 hours" in dry
    assert notice(acme_order, EmailKind.REMINDER, 168) is None

    one = command("replan_reminders", "--customer", "acme", at=at)
    assert "Re-planned 1 live order(s): 1 reminder(s) planned, 0 moved, 1 dropped." in one
    assert notice(acme_order, EmailKind.REMINDER, 168).state == EmailState.PENDING
    assert notice(globex_order, EmailKind.REMINDER, 24) is None

    command("replan_reminders", "--all", at=at)
    again = command("replan_reminders", "--all", at=at)
    assert "0 reminder(s) planned, 0 moved, 0 dropped." in again
    assert notice(globex_order, EmailKind.REMINDER, 24).state == EmailState.PENDING
    with pytest.raises(CommandError):
        command("replan_reminders", "--customer", "nobody", at=at)
