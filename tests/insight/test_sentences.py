"""Every audit kind has a sentence, and each reads right with the details its
events.py writes (the shapes below are copied from those functions)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.models import AuditEvent, Role, User
from customers.models import Customer
from insight.sentences import SENTENCES, Line, sentence, who
from partners.models import Partner

Action = AuditEvent.Action
NORTHWIND = Partner(pk=1, name="Northwind Security")
ACME = Customer(pk=2, name="Acme Manufacturing", partner=NORTHWIND, time_zone="Europe/London")
ALICE = User(pk=3, email="alice@northwind.test", full_name="Alice Archer", role=Role.PARTNER_MANAGER, partner=NORTHWIND)
DANA = User(pk=4, email="dana@acme.test", full_name="Dana Doyle", role=Role.CUSTOMER_MANAGER, customer=ACME)
LONDON = ZoneInfo("Europe/London")
UNTIL = datetime(2026, 7, 1, 13, 15, tzinfo=UTC).isoformat()  # 14:15 in London (summer time)
ALLOCATED = {"requested": 14, "allocated": 12, "not_allocated": 2, "orders": {"8": 12}}

# kind: (actor, in manage mode, details as its events.py writes them, the sentence)
REALISTIC = {
    Action.PARTNER_TIME_ZONE_CHANGED: (
        ALICE,
        False,
        {"before": "Europe/London", "after": "Europe/Dublin"},
        "Alice Archer (Northwind Security) set the partner's time zone to Europe/Dublin (was Europe/London)",
    ),
    Action.LICENCES_RENEWED_EARLY: (
        DANA,
        False,
        {
            "selection": "select_all",
            "search": "",
            "window_days": 30,
            "renewed": 8,
            "not_renewed": 0,
            "orders": {"3": 8},
        },
        "Dana Doyle (Acme Manufacturing) renewed 8 learners early from order #3 with Select All",
    ),
    Action.CARRY_OVER_CHANGED: (
        ALICE,
        True,
        {"on": True},
        "Alice Archer (Northwind Security, manage mode) turned carry-over at expiry on for Acme Manufacturing",
    ),
    Action.LICENCES_CARRIED_OVER: (
        None,
        False,
        {"order": 2, "moved": 5, "not_moved": 3, "orders": {"4": 5}},
        "At the expiry of order #2, 5 learners moved to later orders; 3 learners not moved (no free licence)",
    ),
    Action.NOTICE_COPIES_CHANGED: (
        ALICE,
        False,
        {"copy_managers": False},
        "Alice Archer (Northwind Security) turned copies of expiry notices to the partner's managers off",
    ),
    Action.DIGEST_SUBSCRIPTION_CHANGED: (
        ALICE,
        False,
        {"subscribed": False, "via": "email_link"},
        "Alice Archer (Northwind Security) turned their weekly digest off from the digest's unsubscribe link",
    ),
    Action.SEAT_ALERTS_CHANGED: (
        ALICE,
        False,
        {"alert_at_90_percent": {"before": False, "after": True}},
        "Alice Archer (Northwind Security) turned the 90 % seat alert on for Acme Manufacturing",
    ),
    Action.MANAGE_MODE_ENTERED: (
        ALICE,
        True,
        {},
        "Alice Archer (Northwind Security, manage mode) entered manage mode for Acme Manufacturing",
    ),
    Action.MANAGE_MODE_LEFT: (
        ALICE,
        True,
        {},
        "Alice Archer (Northwind Security, manage mode) left manage mode for Acme Manufacturing",
    ),
    Action.ORDER_REQUESTED: (
        DANA,
        False,
        {"order_id": 8, "quantity": 25},
        "Dana Doyle (Acme Manufacturing) requested 25 licences (order #8)",
    ),
    Action.ORDER_ASSIGNED: (
        ALICE,
        False,
        {"order_id": 8, "quantity": 25, "expires_at": UNTIL},
        "Alice Archer (Northwind Security) assigned order #8: 25 licences valid until 1 Jul 2026, 14:15",
    ),
    Action.ORDER_CANCELLED: (
        ALICE,
        False,
        {"order_id": 9, "quantity": 1},
        "Alice Archer (Northwind Security) cancelled order #9 for 1 licence",
    ),
    Action.LICENCES_ALLOCATED: (
        DANA,
        False,
        ALLOCATED,
        "Dana Doyle (Acme Manufacturing) allocated 12 licences from order #8; 2 learners got none (no free licence)",
    ),
    Action.LICENCES_RENEWED: (
        ALICE,
        True,
        {"selection": "one_by_one", "search": "", "selected": 24, "renewed": 24, "not_renewed": 0, "orders": {"8": 24}},
        "Alice Archer (Northwind Security, manage mode) renewed 24 learners from order #8",
    ),
    Action.LEARNERS_ADDED: (
        DANA,
        False,
        {"source": "csv", "file": "staff.csv", "rows": 130, "added": 120, "allocated": 100, "skipped": 10},
        "Dana Doyle (Acme Manufacturing) imported 120 learners from staff.csv (100 given a licence, 10 skipped)",
    ),
    Action.LEARNER_DEACTIVATED: (
        DANA,
        False,
        {"learner_id": 5, "email": "ava@acme.test", "freed_seat_of_order": 8},
        "Dana Doyle (Acme Manufacturing) deactivated learner ava@acme.test, freeing a licence of order #8",
    ),
    Action.SIGN_IN_FAILED: (
        None,
        False,
        {"email": "dana@acme.test", "address": "203.0.113.9", "page": "sign_in"},
        "Someone typed a wrong password for dana@acme.test from 203.0.113.9",
    ),
    Action.SIGN_IN_LOCKED_OUT: (
        None,
        False,
        {"scope": "account", "until": UNTIL, "email": "dana@acme.test", "address": "203.0.113.9", "page": "sign_in"},
        "Signing in as dana@acme.test was paused until 1 Jul 2026, 14:15 after repeated wrong passwords",
    ),
    Action.PASSWORD_RESET_THROTTLED: (
        None,
        False,
        {"scope": "address", "until": UNTIL, "email": "dana@acme.test", "address": "203.0.113.9"},
        "Password reset requests from 203.0.113.9 were paused until 1 Jul 2026, 14:15",
    ),
    Action.TWO_FACTOR_DEVICE_ADDED: (
        DANA,
        False,
        {"device": "Phone"},
        "Dana Doyle (Acme Manufacturing) set up a two-factor authenticator (Phone)",
    ),
    Action.TWO_FACTOR_DEVICE_REMOVED: (
        DANA,
        False,
        {"user": "dana@acme.test", "devices": 1, "by_operator": False},
        "Dana Doyle (Acme Manufacturing) removed their two-factor authenticator",
    ),
    Action.TWO_FACTOR_CODE_FAILED: (
        DANA,
        False,
        {"address": "203.0.113.9"},
        "Dana Doyle (Acme Manufacturing) typed a wrong two-factor code from 203.0.113.9",
    ),
    Action.TWO_FACTOR_LOCKED_OUT: (
        DANA,
        False,
        {"until": UNTIL, "address": "203.0.113.9"},
        "Two-factor codes of Dana Doyle (Acme Manufacturing) were paused until 1 Jul 2026, 14:15 after repeated wrong codes",
    ),
    Action.TWO_FACTOR_REQUIREMENT_CHANGED: (
        ALICE,
        False,
        {"required": True},
        "Alice Archer (Northwind Security) required two-factor sign-in for every partner manager",
    ),
    Action.REMINDER_SCHEDULE_CHANGED: (
        ALICE,
        False,
        {"scope": "customer", "before_hours": None, "after_hours": [168, 72], "replanned": {}},
        "Alice Archer (Northwind Security) set Acme Manufacturing's reminder schedule to 7 days, 72 hours before expiry",
    ),
    Action.CUSTOMER_CREATED: (
        ALICE,
        False,
        {"name": "Acme Manufacturing", "schema": "acme", "via_token": "lic_ab12"},
        "Alice Archer (Northwind Security) added the customer Acme Manufacturing through the API",
    ),
    Action.API_TOKEN_CREATED: (
        ALICE,
        False,
        {"token": "lic_ab12", "name": "PSA", "scope": "read_write", "expires_at": None},
        "Alice Archer (Northwind Security) created API token “PSA” (lic_ab12…, read and write)",
    ),
    Action.API_TOKEN_REVOKED: (
        ALICE,
        False,
        {"token": "lic_ab12", "name": "PSA"},
        "Alice Archer (Northwind Security) revoked API token “PSA” (lic_ab12…)",
    ),
    Action.WEBHOOK_ENDPOINT_ADDED: (
        ALICE,
        False,
        {"endpoint_id": 4, "url": "https://hooks.example/x", "events": ["order.assigned"]},
        "Alice Archer (Northwind Security) added webhook endpoint https://hooks.example/x",
    ),
    Action.WEBHOOK_ENDPOINT_CHANGED: (
        ALICE,
        False,
        {"endpoint_id": 4, "url": "https://hooks.example/x", "events": [], "changed": ["url", "events"]},
        "Alice Archer (Northwind Security) changed webhook endpoint https://hooks.example/x (url, events)",
    ),
    Action.WEBHOOK_ENDPOINT_REMOVED: (
        ALICE,
        False,
        {"endpoint_id": 4, "url": "https://hooks.example/x", "events": []},
        "Alice Archer (Northwind Security) removed webhook endpoint https://hooks.example/x",
    ),
    Action.WEBHOOK_ENDPOINT_DISABLED: (
        None,
        False,
        {"endpoint_id": 4, "url": "https://hooks.example/x", "events": [], "reason": "Failing for 5 days."},
        "The platform disabled webhook endpoint https://hooks.example/x: Failing for 5 days.",
    ),
    Action.WEBHOOK_ENDPOINT_ENABLED: (
        ALICE,
        False,
        {"endpoint_id": 4, "url": "https://hooks.example/x", "events": []},
        "Alice Archer (Northwind Security) enabled webhook endpoint https://hooks.example/x again",
    ),
    Action.WEBHOOK_REDELIVERED: (
        ALICE,
        False,
        {"endpoint_id": 4, "message": "msg_1", "event": "order.assigned"},
        "Alice Archer (Northwind Security) redelivered the order.assigned webhook",
    ),
}


def line_for(action, actor, in_manage_mode, details):
    event = AuditEvent(
        action=action, actor=actor, customer=ACME, partner=NORTHWIND, in_manage_mode=in_manage_mode, details=details
    )
    return Line(event=event, who=who(event), customer=ACME.name, tz=LONDON)


@pytest.mark.parametrize("action", AuditEvent.Action.values)
def test_every_kind_has_a_sentence(action):
    assert action in SENTENCES, f"Add a sentence for {action!r} to insight/sentences.py SENTENCES"


@pytest.mark.parametrize("action", AuditEvent.Action.values)
def test_every_kind_reads_right_with_realistic_details(action):
    if action not in REALISTIC:
        pytest.fail(f"Add realistic details of {action!r} to REALISTIC in this test")
    actor, in_manage_mode, details, expected = REALISTIC[action]
    assert sentence(line_for(action, actor, in_manage_mode, details)) == expected


@pytest.mark.parametrize("action", AuditEvent.Action.values)
def test_no_sentence_fails_on_missing_or_odd_details(action):
    for details in ({}, {"orders": "x", "until": "not a date", "quantity": "many", "after_hours": []}, []):
        text = sentence(line_for(action, None, False, details))
        assert text and isinstance(text, str)


def test_variants_of_the_sentences():
    renewed_by_csv = {
        "selection": "csv",
        "file": "renew.csv",
        "renewed": 3,
        "not_renewed": 2,
        "orders": {"9": 1, "8": 2},
    }
    assert sentence(line_for(Action.LICENCES_RENEWED, DANA, False, renewed_by_csv)) == (
        "Dana Doyle (Acme Manufacturing) renewed 3 learners from orders #8 and #9 by Import Allocation of renew.csv; "
        "2 learners not renewed"
    )
    added = {"source": "form", "added": 1, "allocated": 0, "learner_id": 5, "email": "ava@acme.test"}
    assert sentence(line_for(Action.LEARNERS_ADDED, DANA, False, added)) == (
        "Dana Doyle (Acme Manufacturing) added learner ava@acme.test (no free licence)"
    )
    back = {"scope": "customer", "before_hours": [72], "after_hours": None}
    assert sentence(line_for(Action.REMINDER_SCHEDULE_CHANGED, ALICE, False, back)) == (
        "Alice Archer (Northwind Security) set Acme Manufacturing's reminders back to the partner's default schedule"
    )
    reset = {"user": "dana@acme.test", "devices": 2, "by_operator": True}
    olive = User(pk=9, email="olive@ops.test", full_name="Olive Ortiz", role=Role.OPERATOR)
    assert sentence(line_for(Action.TWO_FACTOR_DEVICE_REMOVED, olive, False, reset)) == (
        "Olive Ortiz (operator) reset two-factor sign-in of dana@acme.test"
    )
    unknown = AuditEvent(action="seat_alert.changed", actor=ALICE, details={})
    assert sentence(Line(unknown, who(unknown), "", LONDON)).startswith("Alice Archer (Northwind Security): ")
