"""Password reset requests are limited per email (3 an hour) and per address (10 an
hour), whether or not an account has the email, with a message and an audit row."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from accounts.models import AuditEvent

Action = AuditEvent.Action


def ask_for_reset(client, email, address="127.0.0.1"):
    return client.post("/accounts/password-reset/", {"email": email}, REMOTE_ADDR=address)


def test_a_fourth_request_for_one_email_within_the_hour_is_refused(client, dana, mailoutbox):
    for _ in range(3):
        assert ask_for_reset(client, dana.email).status_code == 302
    assert len(mailoutbox) == 3

    refused = ask_for_reset(client, dana.email)
    assert refused.status_code == 429
    html = refused.content.decode()
    assert "Reset links for this email address have been asked for too often" in html
    assert "try again in 60 minutes" in html
    assert len(mailoutbox) == 3

    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert ask_for_reset(client, dana.email).status_code == 302
    assert len(mailoutbox) == 4


def test_the_email_limit_holds_across_addresses_and_cases(client, dana, mailoutbox):
    for n in range(3):
        ask_for_reset(client, dana.email.upper(), address=f"198.51.100.{n + 1}")
    assert ask_for_reset(client, dana.email, address="203.0.113.50").status_code == 429
    assert len(mailoutbox) == 3


def test_one_address_asking_for_many_emails_is_refused(client, world, mailoutbox):
    for n in range(10):
        assert ask_for_reset(client, f"someone{n}@acme.test", address="203.0.113.7").status_code == 302
    refused = ask_for_reset(client, world["dana"].email, address="203.0.113.7")
    assert refused.status_code == 429
    assert "Too many reset requests from your network" in refused.content.decode()
    assert mailoutbox == []

    assert ask_for_reset(client, world["dana"].email, address="198.51.100.20").status_code == 302
    assert len(mailoutbox) == 1


def test_the_pause_is_audited_once_when_it_starts(client, dana):
    for _ in range(6):
        ask_for_reset(client, dana.email, address="203.0.113.7")
    [row] = AuditEvent.objects.filter(action=Action.PASSWORD_RESET_THROTTLED)
    assert row.actor is None
    assert row.customer == dana.customer
    assert row.details["scope"] == "email"
    assert row.details["email"] == dana.email
    assert row.details["address"] == "203.0.113.7"


def test_an_unknown_email_is_limited_alike_and_nothing_is_sent(client, world, mailoutbox):
    for _ in range(3):
        assert ask_for_reset(client, "nobody@acme.test").status_code == 302
    assert ask_for_reset(client, "nobody@acme.test").status_code == 429
    assert mailoutbox == []
