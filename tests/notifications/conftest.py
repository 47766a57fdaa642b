"""Helpers for the notification tests: orders assigned at a chosen moment through
the real services, the scheduler run at a chosen moment, fake email providers, and
runs racing each other in threads."""

import threading
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import requests
import time_machine
from anymail.exceptions import AnymailRequestsAPIError
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection

from licences.models import LicenceOrder
from licences.services import assign_order, request_order
from notifications.models import ExpiryNotice
from notifications.tasks import send_due_expiry_notifications

REMINDER_SUBJECT = "reminder"
EXPIRY_SUBJECT = "expiry"

# An order assigned at this moment expires at EXPIRES (same wall-clock time in
# London, 12 calendar months later), and its reminder falls due at REMINDER_DUE.
ASSIGNED = datetime(2025, 6, 10, 9, 30, tzinfo=UTC)
EXPIRES = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)
REMINDER_DUE = EXPIRES - timedelta(hours=72)


def assign(customer, partner_manager, at=ASSIGNED, quantity=5) -> LicenceOrder:
    """Request and assign an order as the partner manager would, on a travelled clock."""
    with time_machine.travel(at, tick=False):
        order = request_order(customer, quantity, acting_user=partner_manager)
        assign_order(order.pk, acting_user=partner_manager)
    order.refresh_from_db()
    return order


def run_scheduler(at):
    """One beat of the periodic task at the moment ``at``, through Celery (eager in tests)."""
    with time_machine.travel(at, tick=False):
        return send_due_expiry_notifications.delay().get()


def kind_of(message) -> str | None:
    """Which expiry email a message is, from its subject."""
    if "expired" in message.subject:
        return EXPIRY_SUBJECT
    if " on " in message.subject and " expire" in message.subject:
        return REMINDER_SUBJECT
    return None


def sent(kind, order=None):
    """The reminders (REMINDER_SUBJECT) or expiry notices (EXPIRY_SUBJECT) in the
    outbox, of one order if given."""
    messages = [m for m in mail.outbox if kind_of(m) == kind]
    if order is not None:
        messages = [m for m in messages if f"order #{order.pk})" in m.body]
    return messages


def notice(order, kind) -> ExpiryNotice | None:
    return ExpiryNotice.objects.filter(order=order, kind=kind).first()


@pytest.fixture
def acme_order(acme, alice, dana):
    """Five licences for Acme (London), assigned by Alice on 10 June 2025."""
    return assign(acme, alice)


@pytest.fixture
def ready_order(alice, acme, dana):
    """Twelve licences for Acme, assigned by Alice now (its email is left to the test)."""
    return assign_order(request_order(acme, 12, acting_user=alice, in_manage_mode=True).pk, acting_user=alice)


# --- Fake email providers ------------------------------------------------------------


def api_error(status: int, reason: str) -> AnymailRequestsAPIError:
    """The error anymail raises when the provider's API answers ``status``."""
    response = requests.Response()
    response.status_code, response.reason = status, reason
    response._content = b'{"Message": "provider says no"}'
    return AnymailRequestsAPIError("Sending a message to Postmark failed", response=response, esp_name="Postmark")


class FlakyProviderBackend(EmailBackend):
    """A fake of the email provider: raises the queued errors, one per send, then
    accepts messages and reports a message id, as anymail's backends do."""

    errors: list[Exception] = []
    accepted = 0

    def send_messages(self, messages):
        if FlakyProviderBackend.errors:
            raise FlakyProviderBackend.errors.pop(0)
        for message in messages:
            FlakyProviderBackend.accepted += 1
            message.anymail_status = SimpleNamespace(message_id=f"<msg-{FlakyProviderBackend.accepted}@provider>")
        return super().send_messages(messages)


@pytest.fixture
def provider(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyProviderBackend"
    FlakyProviderBackend.errors, FlakyProviderBackend.accepted = [], 0
    return FlakyProviderBackend


class SlowProviderBackend(EmailBackend):
    """A provider that takes a while to accept each message, so racing runs overlap."""

    def send_messages(self, messages):
        time.sleep(0.05)
        return super().send_messages(messages)


@pytest.fixture
def eager_retries_run_in_place(monkeypatch):
    """Eager tasks run their retries at once, in this thread; with propagation off the
    outcome is read from the result instead of being raised mid-way."""
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


def race(runs: int, moment, body):
    """Run ``body`` in ``runs`` threads, each with its own database connection, all
    released at the same instant."""
    barrier = threading.Barrier(runs)
    errors = []

    def worker():
        try:
            barrier.wait()
            body()
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()

    with time_machine.travel(moment, tick=False):
        threads = [threading.Thread(target=worker) for _ in range(runs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
