"""Helpers for the expiry-notification tests: orders assigned at a chosen moment
through the real services, and the scheduler run at a chosen moment."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

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
