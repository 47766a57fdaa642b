"""Copies and digest for partners (issue 10, point 3): the partner's managers copied
on expiry notices (on/off, audited), and a weekly digest on Monday 08:00 in the
partner's time zone, sent once per partner per week, which each manager can turn off
from a signed link (List-Unsubscribe, one-click POST) or their settings page."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail, signing
from django.core.mail.backends.locmem import EmailBackend

from accounts.models import AuditEvent
from notifications import digest
from notifications.models import DigestOptOut, EmailKind, EmailState, OrderEmail, PartnerDigest
from tests.builders import (
    EXPIRES,
    CountingBackend,
    SlowProviderBackend,
    api_error,
    assigned_order,
    give_seats,
    make_learners,
    race,
    run_scheduler,
)

MONDAY = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # London winter: 08:00 local is 08:00 UTC
SETTINGS = "/partner/notifications/"


def digests():
    return [m for m in mail.outbox if "weekly digest" in m.subject]


@pytest.mark.parametrize(
    "zone, now, week_of, due_utc",
    [
        (
            "Europe/London",
            datetime(2026, 1, 7, 12, 0, tzinfo=UTC),
            "2026-01-05",
            datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
        ),
        # The Monday after the clocks went forward (29 March): 08:00 BST is 07:00 UTC.
        (
            "Europe/London",
            datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
            "2026-03-30",
            datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
        ),
        # The Monday before: still GMT.
        (
            "Europe/London",
            datetime(2026, 3, 23, 9, 0, tzinfo=UTC),
            "2026-03-23",
            datetime(2026, 3, 23, 8, 0, tzinfo=UTC),
        ),
        # New York the day after its DST start (8 March): EDT, UTC-4.
        (
            "America/New_York",
            datetime(2026, 3, 9, 12, 0, tzinfo=UTC),
            "2026-03-09",
            datetime(2026, 3, 9, 12, 0, tzinfo=UTC),
        ),
        # Sydney the day after its DST end (5 April): AEST, UTC+10; Monday there is Sunday in UTC.
        (
            "Australia/Sydney",
            datetime(2026, 4, 5, 22, 0, tzinfo=UTC),
            "2026-04-06",
            datetime(2026, 4, 5, 22, 0, tzinfo=UTC),
        ),
        # Kolkata, a half-hour offset, no DST.
        ("Asia/Kolkata", datetime(2026, 6, 8, 3, 0, tzinfo=UTC), "2026-06-08", datetime(2026, 6, 8, 2, 30, tzinfo=UTC)),
    ],
)
def test_the_digest_falls_due_monday_0800_in_the_partners_time_zone(zone, now, week_of, due_utc):
    monday, due_at = digest.digest_moment(ZoneInfo(zone), now)
    assert (monday.isoformat(), due_at) == (week_of, due_utc)
    assert due_at.astimezone(ZoneInfo(zone)).strftime("%A %H:%M") == "Monday 08:00"


def test_a_partner_before_its_monday_0800_waits_and_others_go(world):
    partner_a, partner_b = world["alice"].partner, world["charlie"].partner
    partner_b.time_zone = "America/New_York"  # 08:00 there is 13:00 UTC in January
    partner_b.save(update_fields=["time_zone"])
    assert digest.plan_due_digests(MONDAY - timedelta(minutes=1)) == 0
    assert digest.plan_due_digests(MONDAY) == 1
    assert list(PartnerDigest.objects.values_list("partner_id", flat=True)) == [partner_a.pk]
    assert digest.plan_due_digests(MONDAY + timedelta(hours=5)) == 1  # New York's turn
    assert digest.plan_due_digests(MONDAY + timedelta(hours=6)) == 0  # once per week


@pytest.fixture
def acme_to_renew(world):
    """Acme: 8 learners on an order expiring three days after MONDAY, and one reminder
    of another order that failed the week before."""
    acme = world["acme"]
    soon = assigned_order(acme, 10, world["alice"], expires_at=MONDAY + timedelta(days=3))
    give_seats(acme, soon, make_learners(acme, 8))
    failing = assigned_order(world["globex"], 5, world["alice"], expires_at=MONDAY + timedelta(days=40))
    OrderEmail.objects.filter(order=failing, kind=EmailKind.EXPIRY).update(
        state=EmailState.FAILED, due_at=MONDAY - timedelta(days=2), error="AnymailAPIError: provider says no"
    )
    mail.outbox.clear()
    return soon, failing


def test_the_digest_lists_customers_to_renew_and_failed_emails(world, acme_to_renew):
    soon, failing = acme_to_renew
    outcome = digest.send_due_digests(MONDAY)
    assert outcome == {"planned": 2, "sent": 1, "skipped": 1}  # Bluefin has nothing to report
    messages = digests()
    assert sorted(m.to[0] for m in messages) == ["alice@northwind.test", "bob@northwind.test"]
    message = messages[0]
    assert message.subject == "Northwind Security: 1 company to renew, 1 email failed — weekly digest"
    body = message.body
    assert "Acme Manufacturing: 8 learners affected, first expiry 8 Jan 2026, 08:00" in body
    assert f"Globex Retail, order #{failing.pk}: Licence expiry" in body and "provider says no" in body
    assert "http://testserver/partner/expiring/" in body or "/partner/expiring/" in body
    # Each manager's own signed link, in the body and the headers (RFC 2369, RFC 8058).
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert link in body and "/notifications/digest/unsubscribe/" in link
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert digest.user_of_token(token).email == message.to[0]
    html = message.alternatives[0][0]
    assert "Acme Manufacturing" in html and "Stop the weekly digest" in html
    row = PartnerDigest.objects.get(partner=world["alice"].partner)
    assert (row.state, sorted(row.sent_to)) == ("sent", sorted([world["alice"].pk, world["bob"].pk]))


def test_a_pass_sends_every_digest_through_one_connection(world, acme_to_renew, settings):
    settings.EMAIL_BACKEND = "tests.builders.CountingBackend"
    CountingBackend.made = 0
    assert digest.send_due_digests(MONDAY)["sent"] == 1
    assert len(digests()) == 2 and CountingBackend.made == 1  # two managers, one connection


def test_sent_once_per_week_however_many_beats(world, acme_to_renew):
    for at in (MONDAY, MONDAY + timedelta(minutes=15), MONDAY + timedelta(days=2)):
        digest.send_due_digests(at)
    assert len(digests()) == 2  # one for each of Northwind's managers
    assigned_order(world["globex"], 4, world["alice"], expires_at=MONDAY + timedelta(days=12))
    digest.send_due_digests(MONDAY + timedelta(days=7))
    assert len(digests()) == 4  # next week's


@pytest.mark.parametrize("runs", [2, 3])
def test_beats_at_the_same_moment_send_it_once(tenant_transactional_db, world, acme_to_renew, settings, runs):
    settings.EMAIL_BACKEND = f"{SlowProviderBackend.__module__}.SlowProviderBackend"
    race(runs, MONDAY, lambda: digest.send_due_digests())
    assert Counter(m.to[0] for m in digests()) == {"alice@northwind.test": 1, "bob@northwind.test": 1}
    assert PartnerDigest.objects.filter(state="sent").count() == 1


class SecondSendFailsOnce(EmailBackend):
    """A provider that accepts one message, then answers 503 once, then accepts."""

    sends = 0

    def send_messages(self, messages):
        SecondSendFailsOnce.sends += 1
        if SecondSendFailsOnce.sends == 2:
            raise api_error(503, "Service Unavailable")
        return super().send_messages(messages)


def test_a_transient_error_is_retried_without_sending_twice(world, acme_to_renew, settings, caplog):
    settings.EMAIL_BACKEND = f"{__name__}.SecondSendFailsOnce"
    SecondSendFailsOnce.sends = 0
    with caplog.at_level("WARNING", logger="notifications.services"):
        assert digest.send_due_digests(MONDAY)["retrying"] == 1
    # The operators' log names a digest as a digest, not as an order's email.
    assert [r.getMessage().split(",")[0].split()[0] for r in caplog.records] == ["Digest"]
    assert [m.to[0] for m in digests()] == ["alice@northwind.test"]
    row = PartnerDigest.objects.get(partner=world["alice"].partner)
    assert row.state == "retrying" and "503" in row.error
    digest.send_due_digests(MONDAY + timedelta(minutes=2))  # before the backoff: nothing
    assert len(digests()) == 1
    digest.send_due_digests(MONDAY + timedelta(minutes=10))
    assert [m.to[0] for m in digests()] == ["alice@northwind.test", "bob@northwind.test"]
    assert PartnerDigest.objects.get(pk=row.pk).state == "sent"


def test_a_manager_who_turned_it_off_does_not_get_it(world, acme_to_renew):
    DigestOptOut.objects.create(user=world["bob"])
    digest.send_due_digests(MONDAY)
    assert [m.to[0] for m in digests()] == ["alice@northwind.test"]


# --- The signed link -----------------------------------------------------------------------------


def unsubscribe_path(user) -> str:
    return f"/notifications/digest/unsubscribe/{digest.unsubscribe_token(user)}/"


def test_the_link_asks_first_then_turns_it_off_without_sign_in(client, world):
    path = unsubscribe_path(world["bob"])
    page = client.get(path)
    assert (
        page.status_code == 200
        and "Stop sending the weekly digest to <strong>bob@northwind.test" in page.content.decode()
    )
    assert digest.gets_digest(world["bob"])  # GET changes nothing (mail scanners follow links)
    # The mail client's one-click POST: no session, no CSRF token.
    client.handler.enforce_csrf_checks = True
    done = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert (
        done.status_code == 200 and "The weekly digest is off for <strong>bob@northwind.test" in done.content.decode()
    )
    assert not digest.gets_digest(world["bob"]) and digest.gets_digest(world["alice"])
    assert client.post(path).status_code == 200  # twice is harmless
    events = AuditEvent.objects.filter(action=AuditEvent.Action.DIGEST_SUBSCRIPTION_CHANGED)
    assert list(events.values_list("actor_id", "details")) == [
        (world["bob"].pk, {"subscribed": False, "via": "email_link"})
    ]


def test_a_tampered_or_foreign_link_changes_nothing(client, world):
    token = digest.unsubscribe_token(world["bob"])
    payload, signature = token.rsplit(":", 1)
    forged = signing.dumps({"u": world["alice"].pk}, salt="another.purpose")
    for bad in (payload + ":" + signature[::-1], "nonsense", forged, digest.unsubscribe_token(world["dana"])):
        response = client.post(f"/notifications/digest/unsubscribe/{bad}/")
        assert response.status_code == 400 and "This link is not valid." in response.content.decode()
    assert not DigestOptOut.objects.exists()


def test_another_users_link_turns_off_only_theirs(client, world):
    client.force_login(world["alice"])
    client.post(unsubscribe_path(world["bob"]))
    assert not digest.gets_digest(world["bob"]) and digest.gets_digest(world["alice"])


def test_the_settings_page_turns_my_digest_off_and_on(client, world):
    client.force_login(world["alice"])
    assert 'name="digest" checked' in client.get(SETTINGS).content.decode()
    client.post(SETTINGS + "digest/", {})
    assert not digest.gets_digest(world["alice"])
    assert 'name="digest" checked' not in client.get(SETTINGS).content.decode()
    client.post(SETTINGS + "digest/", {"digest": "on"})
    assert digest.gets_digest(world["alice"])
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DIGEST_SUBSCRIPTION_CHANGED).count() == 2


def test_customer_managers_cannot_turn_off_the_expiry_notices(client, world):
    client.force_login(world["dana"])
    assert client.post(SETTINGS + "digest/", {}).status_code == 403
    assert client.post(SETTINGS + "copies/", {}).status_code == 403
    with pytest.raises(ValueError):
        digest.set_digest(world["dana"], False, via="settings")


# --- Copies of expiry notices ---------------------------------------------------------------------


def test_copies_on_expiry_notices_on_and_off(client, world, acme_order):
    client.force_login(world["alice"])
    run_scheduler(EXPIRES - timedelta(days=1))
    notice_at = EXPIRES + timedelta(minutes=1)

    client.post(SETTINGS + "copies/", {"copy": "on"})
    assert 'name="copy" checked' in client.get(SETTINGS).content.decode()
    mail.outbox.clear()
    with time_machine.travel(notice_at, tick=False):
        run_scheduler(notice_at)
    (notice,) = [m for m in mail.outbox if "expired" in m.subject.lower()]
    assert notice.to == ["dana@acme.test"]
    assert sorted(notice.cc) == ["alice@northwind.test", "bob@northwind.test"]
    assert OrderEmail.objects.get(order=acme_order, kind=EmailKind.EXPIRY).recipient_count == 3

    client.post(SETTINGS + "copies/", {})
    later = assigned_order(world["acme"], 3, world["alice"], expires_at=EXPIRES + timedelta(days=1))
    mail.outbox.clear()
    run_scheduler(EXPIRES + timedelta(days=1, minutes=1))
    (notice,) = [m for m in mail.outbox if f"#{later.pk}" in m.body and "expired" in m.subject.lower()]
    assert notice.cc == []
    changes = AuditEvent.objects.filter(action=AuditEvent.Action.NOTICE_COPIES_CHANGED).order_by("pk")
    assert [e.details for e in changes] == [{"copy_managers": True}, {"copy_managers": False}]
    assert set(changes.values_list("actor_id", "partner_id")) == {(world["alice"].pk, world["alice"].partner_id)}


def test_the_beat_runs_the_digest_task(world, acme_to_renew):
    from django.conf import settings as django_settings

    from notifications.tasks import send_partner_digests

    entry = django_settings.CELERY_BEAT_SCHEDULE["send-partner-digests"]
    assert entry["task"] == "notifications.tasks.send_partner_digests"
    with time_machine.travel(MONDAY + timedelta(minutes=3), tick=False):
        send_partner_digests.delay().get()
        send_partner_digests.delay().get()
    assert len(digests()) == 2


@pytest.mark.django_db
def test_the_demo_shows_renewals_and_sends_a_digest_once(client, mailoutbox):
    from io import StringIO

    from django.core.management import call_command

    from accounts.models import User

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    sent_digests = [m for m in mailoutbox if "weekly digest" in m.subject]
    assert sorted(m.to[0] for m in sent_digests) == ["alice@northwind.example", "bob@northwind.example"]
    assert "Acme Manufacturing: 8 learners affected" in sent_digests[0].body
    client.force_login(User.objects.get(email="alice@northwind.example"))
    html = client.get("/partner/expiring/").content.decode()
    assert "data-affected>8<" in html and "1 order, 30 licences" in html
    assert 'name="copy" checked' in client.get(SETTINGS).content.decode()
