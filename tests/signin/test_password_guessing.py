"""Guessing passwords: 25 wrong passwords, then the right one, no longer signs in.

Failures are counted per account and per address in Redis; at the limit (5 per
account, 20 per address by default) signing in is paused for the cool-off period
(15 minutes), with a message saying so, on /accounts/login/ and /admin/login/ alike."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from accounts.models import AuditEvent
from tests.builders import OPERATOR_PASSWORD, PASSWORD

Action = AuditEvent.Action
ACCOUNT_PAUSED = "Too many failed sign-ins for this account"
NETWORK_PAUSED = "Too many failed sign-ins from your network"


def sign_in(client, email, password, *, page="/accounts/login/", address="127.0.0.1"):
    return client.post(page, {"username": email, "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize(
    ("page", "who", "password"),
    [("/accounts/login/", "alice", PASSWORD), ("/admin/login/", "operator", OPERATOR_PASSWORD)],
)
def test_25_wrong_passwords_then_the_right_one_is_refused_until_the_cool_off_ends(
    client, world, operator, page, who, password
):
    email = (operator if who == "operator" else world[who]).email
    for _ in range(25):
        assert sign_in(client, email, "guess-123", page=page).status_code in (200, 429)

    refused = sign_in(client, email, password, page=page)
    assert refused.status_code == 429
    assert ACCOUNT_PAUSED in refused.content.decode()
    assert "Try again in 15 minutes." in refused.content.decode()
    assert not signed_in(client)

    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        refused = sign_in(client, email, password, page=page)
        assert refused.status_code == 429
        assert "Try again in 5 minutes." in refused.content.decode()
        assert not signed_in(client)

    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=5)):
        allowed = sign_in(client, email, password, page=page)
        assert allowed.status_code == 302
        assert signed_in(client)


def test_the_fifth_failure_starts_the_pause_and_says_so(client, alice):
    for _ in range(4):
        response = sign_in(client, alice.email, "guess-123")
        assert response.status_code == 200
        assert "do not match an active account" in response.content.decode()
    fifth = sign_in(client, alice.email, "guess-123")
    assert fifth.status_code == 429
    assert ACCOUNT_PAUSED in fifth.content.decode()


def test_the_pause_is_per_account_whatever_the_case_of_the_email(client, alice, bob):
    for _ in range(5):
        sign_in(client, "  ALICE@Northwind.TEST ", "guess-123")
    assert sign_in(client, alice.email, PASSWORD).status_code == 429
    # Another account from the same address is not paused by alice's failures.
    assert sign_in(client, bob.email, PASSWORD).status_code == 302


def test_the_right_password_clears_the_failures_so_far(client, alice):
    for _ in range(4):
        sign_in(client, alice.email, "guess-123")
    assert sign_in(client, alice.email, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert sign_in(client, alice.email, "guess-123").status_code == 200
    assert sign_in(client, alice.email, PASSWORD).status_code == 302


def test_one_address_guessing_across_many_accounts_is_paused(client, world):
    guesser, neighbour = "203.0.113.7", "198.51.100.20"
    for n in range(20):  # one wrong password each: no account reaches its own limit
        sign_in(client, f"someone{n}@northwind.test", "guess-123", address=guesser)

    refused = sign_in(client, world["dana"].email, PASSWORD, address=guesser)
    assert refused.status_code == 429
    assert NETWORK_PAUSED in refused.content.decode()
    assert not signed_in(client)
    refused = sign_in(client, world["dana"].email, PASSWORD, page="/admin/login/", address=guesser)
    assert refused.status_code == 429

    assert sign_in(client, world["dana"].email, PASSWORD, address=neighbour).status_code == 302

    client.logout()
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert sign_in(client, world["dana"].email, PASSWORD, address=guesser).status_code == 302


def test_ipv6_guesses_count_per_64_block(client, world):
    for n in range(20):
        sign_in(client, f"someone{n}@northwind.test", "guess-123", address=f"2001:db8:1:2::{n + 1:x}")
    assert sign_in(client, world["dana"].email, PASSWORD, address="2001:db8:1:2:ffff::9").status_code == 429
    assert sign_in(client, world["dana"].email, PASSWORD, address="2001:db8:1:3::1").status_code == 302


def test_an_email_without_an_account_is_paused_alike(client, world):
    """The pause says nothing about whether an account has that email."""
    for _ in range(5):
        sign_in(client, "nobody@northwind.test", "guess-123")
    refused = sign_in(client, "nobody@northwind.test", "guess-123")
    assert refused.status_code == 429
    assert ACCOUNT_PAUSED in refused.content.decode()


def test_failures_and_the_pause_are_audited_and_refused_attempts_write_nothing(client, alice):
    for _ in range(5):
        sign_in(client, alice.email, "guess-123", address="203.0.113.7")
    for _ in range(20):
        sign_in(client, alice.email, "guess-123", address="203.0.113.7")  # refused while paused

    failures = AuditEvent.objects.filter(action=Action.SIGN_IN_FAILED)
    assert failures.count() == 5
    first = failures.first()
    assert first.actor is None
    assert first.partner == alice.partner
    assert first.details == {"email": alice.email, "address": "203.0.113.7", "page": "sign-in"}

    [pause] = AuditEvent.objects.filter(action=Action.SIGN_IN_LOCKED_OUT)
    assert pause.partner == alice.partner
    assert pause.details["scope"] == "account"
    assert pause.details["email"] == alice.email
    assert pause.details["address"] == "203.0.113.7"
    until = timezone.datetime.fromisoformat(pause.details["until"])
    assert timedelta(minutes=14) < until - timezone.now() <= timedelta(minutes=15)


def test_admin_failures_are_audited_as_the_admin_page(client, operator):
    sign_in(client, operator.email, "guess-123", page="/admin/login/")
    [failure] = AuditEvent.objects.filter(action=Action.SIGN_IN_FAILED)
    assert failure.details["page"] == "admin"


def test_a_right_password_on_the_admin_by_a_non_operator_is_not_a_failure(client, dana):
    response = sign_in(client, dana.email, PASSWORD, page="/admin/login/")
    assert response.status_code == 200
    assert not signed_in(client)
    assert not AuditEvent.objects.filter(action=Action.SIGN_IN_FAILED).exists()


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_a_forged_forwarded_for_header_does_not_escape_the_address_limit(client, world):
    for n in range(20):
        client.post(
            "/accounts/login/",
            {"username": f"someone{n}@northwind.test", "password": "guess-123"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        )
    refused = client.post(
        "/accounts/login/",
        {"username": world["dana"].email, "password": PASSWORD},
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="10.0.0.99",
    )
    assert refused.status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_the_address_it_saw_counts(client, world):
    for n in range(20):
        client.post(
            "/accounts/login/",
            {"username": f"someone{n}@northwind.test", "password": "guess-123"},
            REMOTE_ADDR="10.0.0.2",  # the proxy
            HTTP_X_FORWARDED_FOR=f"forged-{n}, 203.0.113.7",
        )
    dana = {"username": world["dana"].email, "password": PASSWORD}
    from_guesser = client.post("/accounts/login/", dana, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert from_guesser.status_code == 429
    from_neighbour = client.post("/accounts/login/", dana, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert from_neighbour.status_code == 302


def test_without_redis_sign_in_is_refused_not_let_through_uncounted(client, alice, settings):
    settings.CACHES = {
        **settings.CACHES,
        "signin": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    response = sign_in(client, alice.email, PASSWORD)
    assert response.status_code == 503
    assert "Signing in is unavailable for a moment" in response.content.decode()
    assert not signed_in(client)


def test_a_post_without_a_password_does_not_clear_the_failures(client, alice):
    for _ in range(4):
        sign_in(client, alice.email, "guess-123")
    assert client.post("/accounts/login/", {"username": alice.email}).status_code == 200
    assert sign_in(client, alice.email, "guess-123").status_code == 429
