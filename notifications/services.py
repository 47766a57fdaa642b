# Raw SQL here interpolates only schema, table and column names taken from the
# models and settings; every value is a query parameter.
# ruff: noqa: S608
"""Sending the ledger: every email about an order, and the seat alerts, each sent once.

The scheduler's periodic task, the one-off tasks (licence request, licences ready),
the operators' command and the tests all go through ``deliver_due``. How it keeps
each email to one:

1. **Scan**: one indexed query on the public schema, ``due_at <= now`` over a partial
   index that holds only the emails still to deal with (pending, claimed, retrying),
   oldest first, at most a batch. Its cost grows with the emails due, not with the
   number of customers, orders or the history.
2. **Claim**, a batch at a time, with one conditional UPDATE (healthchecks' way):
   a row becomes ``claimed`` only if it is still due and open (rows another run is
   claiming at that instant are skipped: they are its). A claim is a lease: no scan
   sees it until ``claimed_at`` is older than the timeout, and then (a dead worker)
   it is due again and taken over. No row lock is held on the order,
   so a slow provider never stalls allocations, which update the order's row.
3. **Decide**: is the email still true? A reminder once the order has expired, or
   when a later reminder of the same order is also due (after an outage), is skipped;
   licences ready for an order that has expired, likewise. An expiry notice waits
   while a reminder of the order is being sent, so it never overtakes it.
4. **Send**, outside any transaction.
5. **Record**: sent (with the provider's message id), or on a transient provider
   error waiting to retry (backoff; a reminder's retry never later than the expiry),
   or failed (a permanent error, or too many attempts), for operators to see. Each
   record is conditional on the claim still being ours, one statement per email.

A pass shares what its emails need (``emails.Outbox``): one email backend
connection, the managers of each company and the batch's later free seats, each
looked up once per batch; so queries per email stay constant.

The one window left is a worker that dies after the provider accepted a message
and before step 5 commits (or the database server crashing just after it, the
records being committed asynchronously): that email goes out again when its claim
is taken over.
Sending first and recording after is the choice that never loses one.
"""

import logging
import smtplib
from collections import Counter
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from anymail.exceptions import AnymailError
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Prefetch, Q
from django.utils import timezone

from accounts.models import Role, User
from common.db import PUBLIC, schema_qualified_cursor
from learners import carry_over
from licences.models import LicenceOrder, OrderStatus
from licences.services import pool_summary
from notifications import emails, seat_alerts, signals
from notifications.ledger import COMPANY_INACTIVE, claim_timeout, describe, is_transient, retry_backoff
from notifications.models import OPEN_STATES, EmailKind, EmailState, OrderEmail, SeatAlert
from notifications.planning import SCHEDULE_CHANGED

logger = logging.getLogger(__name__)

UPCOMING_DAYS = 30
RECENTLY_EXPIRED_DAYS = 7

STALE_REMINDER = "Not sent: the licences had expired before this reminder went out."
SUPERSEDED_REMINDER = "Not sent: a later reminder of this order was due too; only that one went out."
STALE_READY = "Not sent: the licences had expired before this email went out."
NOT_ASSIGNED = "Not sent: the order is no longer assigned."
NO_RECIPIENTS = "Not sent: nobody to send it to (no active manager)."


# --- Scan ------------------------------------------------------------------------------------


def due_emails(now: datetime, limit: int):
    """Emails due, oldest first, as a queryset (for the dry run): pending or waiting
    to retry, or claimed by a run that stopped (its lease ran out)."""
    live_claim = Q(state=EmailState.CLAIMED, claimed_at__gt=now - claim_timeout())
    due = OrderEmail.objects.filter(state__in=OPEN_STATES, due_at__lte=now).exclude(live_claim)
    return due.order_by("due_at", "pk")[:limit]


# The scan the scheduler runs every few minutes, the same as ``due_emails``, written
# out: one range read of the partial index on due_at, no join, and none of the
# ORM's per-call compiling (half the time of a sub-millisecond query). The table is
# named with its schema (the ledger is in the public one), so the scan needs no
# SET search_path first: see ``common.db.schema_qualified_cursor``.
_SCAN_SQL = f"""
SELECT id FROM {PUBLIC}.notifications_orderemail
WHERE due_at <= %(now)s AND state IN ('pending', 'claimed', 'retrying')
  AND (state <> 'claimed' OR claimed_at <= %(stale_before)s)
ORDER BY due_at, id
LIMIT %(limit)s
"""


def due_email_ids(now: datetime, limit: int) -> list[int]:
    """The scan: ids of the emails due, oldest first, at most ``limit``."""
    with schema_qualified_cursor() as cursor:
        cursor.execute(_SCAN_SQL, {"now": now, "stale_before": now - claim_timeout(), "limit": limit})
        return [email_id for (email_id,) in cursor.fetchall()]


# --- Claim -----------------------------------------------------------------------------------

# Still due and open (a claim is open again once its lease ran out), and, for an
# expiry notice, no reminder of the same order being sent right now. A batch of
# emails is claimed in one statement; rows another run is claiming at this very
# moment are skipped (they are that run's), so two runs never wait on each other.
# For a reminder, whether a later reminder of the same order is also due (after an
# outage only that one goes).
_CLAIM_SQL = """
WITH mine AS (
    SELECT id FROM notifications_orderemail WHERE id = ANY(%(ids)s) ORDER BY id FOR UPDATE SKIP LOCKED
)
UPDATE notifications_orderemail AS e
SET state = 'claimed', claimed_at = %(now)s, attempts = e.attempts + 1
FROM mine
WHERE e.id = mine.id AND e.due_at <= %(now)s AND e.state IN ('pending', 'claimed', 'retrying')
  AND (e.state <> 'claimed' OR e.claimed_at <= %(stale_before)s)
  AND NOT (e.kind = 'expiry' AND EXISTS (
      SELECT 1 FROM notifications_orderemail r
      WHERE r.order_id = e.order_id AND r.kind = 'reminder' AND r.state = 'claimed'
        AND r.claimed_at > %(stale_before)s))
RETURNING e.id, e.order_id, e.kind, e.lead_hours, e.attempts,
  e.kind = 'reminder' AND EXISTS (
      SELECT 1 FROM notifications_orderemail l
      WHERE l.order_id = e.order_id AND l.kind = 'reminder' AND l.lead_hours < e.lead_hours
        AND l.due_at <= %(now)s AND NOT (l.state = 'skipped' AND l.error = %(schedule_changed)s))
"""

# Emails claimed at a time: the lease of the batch's last email starts when the
# batch is claimed, so a batch is a few seconds' sending at most.
CLAIM_BATCH = 100


@dataclass(frozen=True)
class Claim:
    """An email this run holds: it may send it, and only this attempt may record it."""

    email_id: int
    order: LicenceOrder
    kind: str
    lead_hours: int
    attempt: int
    # Set when a later reminder of the same order is also due (only that one goes).
    superseded: bool = False
    model: ClassVar = OrderEmail
    label: ClassVar = "Email"  # what the log calls it


def claim_batch(email_ids: list[int], now: datetime) -> list[Claim]:
    """Take these emails for this run, in the order given, leaving out those that
    are not this run's to send (not due, settled, or held by another run). Two
    queries whatever their number: the claim, and their orders with customers and
    partners."""
    if not email_ids:
        return []
    params = {
        "ids": list(email_ids),
        "now": now,
        "stale_before": now - claim_timeout(),
        "schedule_changed": SCHEDULE_CHANGED,
    }
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, params)
        rows = {row[0]: row for row in cursor.fetchall()}
    if not rows:
        return []
    orders = LicenceOrder.objects.select_related("customer__partner").in_bulk({row[1] for row in rows.values()})
    return [
        Claim(
            email_id=email_id,
            order=orders[rows[email_id][1]],
            kind=rows[email_id][2],
            lead_hours=rows[email_id][3],
            attempt=rows[email_id][4],
            superseded=bool(rows[email_id][5]),
        )
        for email_id in email_ids
        if email_id in rows
    ]


def claim(email_id: int, now: datetime) -> Claim | None:
    """Take email ``email_id`` for this run, or return None when it is not this run's."""
    claims = claim_batch([email_id], now)
    return claims[0] if claims else None


def why_not_send(claim: Claim, now: datetime) -> str | None:
    """The reason a claimed email is no longer true (it is then skipped), or None."""
    order = claim.order
    if not order.customer.is_active:
        return COMPANY_INACTIVE
    if claim.kind == EmailKind.LICENCE_REQUEST:
        return None
    if order.status != OrderStatus.ASSIGNED:
        return NOT_ASSIGNED
    if claim.kind == EmailKind.LICENCES_READY and now >= order.expires_at:
        return STALE_READY
    if claim.kind == EmailKind.REMINDER:
        if now >= order.expires_at:
            # Rule 6: after an outage the reminder is no longer true; the expiry notice says it all.
            return STALE_REMINDER
        if claim.superseded:
            return SUPERSEDED_REMINDER
    return None


# --- Send and record -------------------------------------------------------------------------


# During a pass the records go through one cursor of the pass's (django-tenants
# sends SET search_path once per cursor: once per pass, not once per email).
_pass_cursor: ContextVar = ContextVar("ledger_pass_cursor", default=None)


@contextmanager
def _recording_pass():
    """One cursor for the pass's records, with asynchronous commit: a record then
    costs a round trip, not a flush of the WAL to disk (the fsync was most of an
    email's time). A record is lost only if the database server itself crashes in
    the next fraction of a second; the email is then sent again when its claim is
    taken over, the same window as a worker dying before it recorded (see above)."""
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
        token = _pass_cursor.set((cursor, getattr(connection, "search_path_set_schemas", None)))
        try:
            yield
        finally:
            _pass_cursor.reset(token)
            # If the connection failed, the error on its way up says why.
            with suppress(DatabaseError):
                cursor.execute("RESET synchronous_commit")


def record(claim, **fields) -> int:
    """Write the outcome of ``claim``, only if the claim is still this attempt's;
    returns whether it was."""
    table = claim.model._meta.db_table
    assignments = ", ".join(f"{name} = %s" for name in fields)
    sql = f"UPDATE {table} SET {assignments} WHERE id = %s AND state = 'claimed' AND attempts = %s"
    params = [*fields.values(), claim.email_id, claim.attempt]
    shared = _pass_cursor.get()
    # The pass's cursor only while the connection is still in the schema it was
    # opened in (a hook may have entered a customer's since).
    if shared is not None and getattr(connection, "search_path_set_schemas", None) == shared[1]:
        shared[0].execute(sql, params)
        return shared[0].rowcount
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def record_sent(claim, message_id: str, recipient_count: int) -> str:
    if recipient_count:
        state, changes = EmailState.SENT, {"sent_at": timezone.now(), "error": ""}
    else:
        state, changes = EmailState.SKIPPED, {"error": NO_RECIPIENTS}
    updated = record(
        claim, state=state, message_id=(message_id or "")[:255], recipient_count=recipient_count, **changes
    )
    if not updated:
        logger.warning(
            "%s %s was taken over while being sent; it may have gone out twice.", claim.label, claim.email_id
        )
    return state


def record_skipped(claim, reason: str) -> str:
    record(claim, state=EmailState.SKIPPED, error=reason)
    return EmailState.SKIPPED


def record_send_error(claim, error: BaseException, now: datetime) -> str:
    if is_transient(error) and claim.attempt < settings.EXPIRY_MAX_SEND_ATTEMPTS:
        retry_at = now + retry_backoff(claim.attempt)
        if claim.kind == EmailKind.REMINDER:
            # A reminder's retry never delays the expiry notice: at expiry it is skipped.
            retry_at = min(retry_at, claim.order.expires_at)
        record(claim, state=EmailState.RETRYING, due_at=retry_at, error=describe(error))
        logger.warning(
            "%s %s, attempt %s failed; retrying at %s: %s",
            claim.label,
            claim.email_id,
            claim.attempt,
            retry_at,
            error,
        )
        return EmailState.RETRYING
    record(claim, state=EmailState.FAILED, error=describe(error))
    logger.error("%s %s failed after %s attempt(s): %s", claim.label, claim.email_id, claim.attempt, error)
    return EmailState.FAILED


def _send(claim: Claim, now: datetime, outbox: emails.Outbox) -> tuple[str, int]:
    order = claim.order
    if claim.kind == EmailKind.LICENCE_REQUEST:
        return emails.licence_request_waiting(order, outbox)
    if claim.kind == EmailKind.LICENCES_READY:
        return emails.licences_ready(order, outbox)
    if claim.kind == EmailKind.REMINDER:
        return emails.expiry_reminder(order, now=now, outbox=outbox)
    # About to send the expiry notice of ``order`` (hook point: docs/architecture.md):
    # carry-over at expiry, if the customer chose it, runs here, once per order.
    return emails.expiry_notice(order, outbox, carried_over=carry_over.at_expiry(order, now))


def _tell_the_apps_above(claim: Claim, reason: str | None) -> None:
    """On an email's first attempt: a reminder still true means the order's licences
    are expiring, an expiry notice that they expired (notifications.signals; the
    API's webhooks subscribe), whether or not anyone is there to email."""
    if claim.attempt != 1 or claim.kind not in (EmailKind.REMINDER, EmailKind.EXPIRY):
        return
    if claim.kind == EmailKind.REMINDER:
        if reason is None:
            signals.licences_expiring.send(LicenceOrder, order=claim.order, lead_hours=claim.lead_hours)
    elif reason != COMPANY_INACTIVE:
        signals.licences_expired.send(LicenceOrder, order=claim.order)


def deliver(claim: Claim, now: datetime, outbox: emails.Outbox | None = None) -> str:
    """Send a claimed email, or skip it when it is no longer true, and record the
    outcome; returns the email's new state."""
    reason = why_not_send(claim, now)
    _tell_the_apps_above(claim, reason)
    if reason is not None:
        return record_skipped(claim, reason)
    return _send_and_record(claim, now, lambda: _send(claim, now, outbox or emails.Outbox()))


def _send_and_record(claim, now: datetime, send) -> str:
    try:
        message_id, recipient_count = send()
    except Exception as error:
        if not isinstance(error, AnymailError | smtplib.SMTPException | OSError):
            logger.exception("Unexpected error sending email %s", claim.email_id)
        return record_send_error(claim, error, now)
    state = record_sent(claim, message_id, recipient_count)
    # A reminder or notice was sent (hook point: docs/architecture.md).
    return state


@dataclass
class RunSummary:
    """What one pass did: how many due emails it scanned, and what became of them
    (``sent``, ``retrying``, ``failed``, ``skipped``; ``held_elsewhere``: another
    run had them, or an expiry notice waits for its reminder)."""

    batch_size: int
    scanned: int = 0
    claimed: int = 0
    outcomes: Counter = field(default_factory=Counter)

    @property
    def more_may_be_due(self) -> bool:
        # A full batch of which this run moved at least one email on: the next
        # batch may hold more. Emails held elsewhere are that run's to finish.
        return self.scanned >= self.batch_size and self.scanned > self.outcomes["held_elsewhere"]

    def as_dict(self) -> dict:
        return {"scanned": self.scanned, "claimed": self.claimed, **{str(k): v for k, v in self.outcomes.items()}}


def deliver_one(email_id: int, now: datetime, summary: RunSummary | None = None) -> str | None:
    """Claim, send and record one email; None when it was not this run's to send."""
    taken = claim(email_id, now)
    if taken is None:
        if summary is not None:
            summary.outcomes["held_elsewhere"] += 1
        return None
    state = deliver(taken, now)
    if summary is not None:
        summary.claimed += 1
        summary.outcomes[state] += 1
    return state


def _deliver_batch(email_ids, clock, summary: RunSummary, outbox: emails.Outbox) -> None:
    """Claim a batch in one statement, look up what its emails need in a few more
    (managers, later free seats, copies of notices), then send and record each: the queries per
    email stay the same whatever the number of customers or orders."""
    now = clock()
    claims = claim_batch(email_ids, now)
    if len(claims) < len(email_ids):
        summary.outcomes["held_elsewhere"] += len(email_ids) - len(claims)
    if not claims:
        return
    reminders = [c.order for c in claims if c.kind == EmailKind.REMINDER and not c.superseded]
    notices = [c.order for c in claims if c.kind == EmailKind.EXPIRY]
    outbox.prepare([c.order for c in claims], reminders=reminders, notices=notices, now=now)
    for taken in claims:
        state = deliver(taken, clock(), outbox)
        summary.claimed += 1
        summary.outcomes[state] += 1


def send_due_emails(now: datetime | None = None, limit: int | None = None) -> RunSummary:
    """One pass of the scheduler: scan, then claim, send and record each due email
    (the order emails, then the seat alerts), in batches, through one connection to
    the email backend.

    ``now`` fixes the clock (tests, a catch-up by hand); by default each batch and
    each email reads the clock afresh, so a long pass does not shorten the later
    claims' leases."""
    limit = limit or settings.EXPIRY_SCAN_BATCH_SIZE
    clock = (lambda: now) if now is not None else timezone.now
    summary = RunSummary(batch_size=limit)
    email_ids = due_email_ids(clock(), limit)
    alert_ids = due_alert_ids(clock(), limit - len(email_ids)) if len(email_ids) < limit else []
    summary.scanned = len(email_ids) + len(alert_ids)
    if not summary.scanned:
        return summary
    signals.sending_started.send(OrderEmail)
    try:
        with emails.Outbox() as outbox, _recording_pass():
            for start in range(0, len(email_ids), CLAIM_BATCH):
                _deliver_batch(email_ids[start : start + CLAIM_BATCH], clock, summary, outbox)
            for alert_id in alert_ids:
                _record_outcome(summary, deliver_alert(alert_id, clock(), outbox))
    finally:
        signals.sending_finished.send(OrderEmail)
    return summary


def _record_outcome(summary: RunSummary, state: str | None) -> None:
    if state is None:
        summary.outcomes["held_elsewhere"] += 1
    else:
        summary.claimed += 1
        summary.outcomes[state] += 1


def send_order_email(order_id: int, kind: str, now: datetime | None = None) -> str | None:
    """Send one of the order's one-off emails now, if it is due and nobody has (the
    task queued on the order's commit; the beat's scan catches it otherwise)."""
    email_id = (
        OrderEmail.objects.filter(order_id=order_id, kind=kind, lead_hours=0).values_list("pk", flat=True).first()
    )
    if email_id is None:
        return None
    return deliver_one(email_id, now or timezone.now())


# --- Seat alerts ---------------------------------------------------------------------------

_ALERT_SCAN_SQL = f"""
SELECT id FROM {PUBLIC}.notifications_seatalert
WHERE due_at <= %(now)s AND state IN ('pending', 'claimed', 'retrying')
  AND (state <> 'claimed' OR claimed_at <= %(stale_before)s)
ORDER BY due_at, id
LIMIT %(limit)s
"""

_CLAIM_ALERT_SQL = """
UPDATE notifications_seatalert
SET state = 'claimed', claimed_at = %(now)s, attempts = attempts + 1
WHERE id = %(id)s AND due_at <= %(now)s AND state IN ('pending', 'claimed', 'retrying')
  AND (state <> 'claimed' OR claimed_at <= %(stale_before)s)
RETURNING attempts
"""


@dataclass(frozen=True)
class AlertClaim:
    """A seat alert this run holds (see Claim)."""

    email_id: int
    alert: SeatAlert
    attempt: int
    kind: str = "seat_alert"
    model: ClassVar = SeatAlert
    label: ClassVar = "Seat alert"


def due_alert_ids(now: datetime, limit: int) -> list[int]:
    """The seat alerts due, oldest first: the scan's partial index, like the order emails'."""
    with schema_qualified_cursor() as cursor:
        cursor.execute(_ALERT_SCAN_SQL, {"now": now, "stale_before": now - claim_timeout(), "limit": limit})
        return [alert_id for (alert_id,) in cursor.fetchall()]


def claim_alert(alert_id: int, now: datetime) -> AlertClaim | None:
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_ALERT_SQL, {"id": alert_id, "now": now, "stale_before": now - claim_timeout()})
        row = cursor.fetchone()
    if row is None:
        return None
    alert = SeatAlert.objects.select_related("customer__partner").get(pk=alert_id)
    return AlertClaim(email_id=alert_id, alert=alert, attempt=row[0])


def deliver_alert(alert_id: int, now: datetime, outbox: emails.Outbox | None = None) -> str | None:
    """Claim, send (or skip, when no longer true) and record one seat alert; None
    when it was not this run's. The counts in the email are the pool's now."""
    taken = claim_alert(alert_id, now)
    if taken is None:
        return None
    alert = taken.alert
    reason = seat_alerts.why_not_send(alert)
    waiting = 0
    if reason is None:
        pool = pool_summary(alert.customer, now)
        alert.seats_used, alert.seats_total = pool["allocated"], pool["total"]
        if not seat_alerts.still_true(alert.kind, pool):
            # Seats came free between planning and sending (an order assigned at
            # that moment): the episode is over; the next exhaustion is a new one.
            SeatAlert.objects.filter(pk=alert.pk, ended_at__isnull=True).update(ended_at=now)
            reason = seat_alerts.EPISODE_OVER
    if reason is None and alert.kind == seat_alerts.SeatAlertKind.EXHAUSTED:
        waiting = seat_alerts.waiting_learners(alert.customer)
        if not waiting:
            reason = seat_alerts.NOBODY_WAITS
    if reason is not None:
        return record_skipped(taken, reason)
    return _send_and_record(taken, now, lambda: emails.seat_alert(alert, waiting=waiting, outbox=outbox))


def send_seat_alert(alert_id: int, now: datetime | None = None) -> str | None:
    """The task queued when an episode opens; the beat's scan catches it otherwise."""
    return deliver_alert(alert_id, now or timezone.now())


# --- Dry run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedEmail:
    email: OrderEmail
    action: str
    recipients: list[str]


def plan_due_emails(now: datetime | None = None, limit: int | None = None) -> list[PlannedEmail]:
    """What ``send_due_emails`` would do now, claiming nothing. A fixed number of queries."""
    now = now or timezone.now()
    due = list(due_emails(now, limit or settings.EXPIRY_SCAN_BATCH_SIZE).select_related("order__customer__partner"))
    order_ids = {e.order_id for e in due}
    reminders: dict[int, list[OrderEmail]] = {}
    for other in OrderEmail.objects.filter(order__in=order_ids, kind=EmailKind.REMINDER, due_at__lte=now):
        reminders.setdefault(other.order_id, []).append(other)
    customer_ids = {e.order.customer_id for e in due}
    partner_ids = {e.order.customer.partner_id for e in due}
    by_customer: dict[int, list[str]] = {}
    by_partner: dict[int, list[str]] = {}
    people = User.objects.filter(
        Q(customer__in=customer_ids, role=Role.CUSTOMER_MANAGER)
        | Q(partner__in=partner_ids, role=Role.PARTNER_MANAGER),
        is_active=True,
    ).order_by("email")
    for role, customer_id, partner_id, email in people.values_list("role", "customer_id", "partner_id", "email"):
        if role == Role.CUSTOMER_MANAGER:
            by_customer.setdefault(customer_id, []).append(email)
        else:
            by_partner.setdefault(partner_id, []).append(email)

    plan = []
    for email in due:
        order = email.order
        label = f"send {email.label.lower()}"
        if email.attempts and email.state == EmailState.RETRYING:
            label += f" (attempt {email.attempts + 1})"
        elif email.state == EmailState.CLAIMED:
            label = f"take over {email.label.lower()} left by a stopped run"
        superseded = any(
            r.lead_hours < email.lead_hours and not (r.state == EmailState.SKIPPED and r.error == SCHEDULE_CHANGED)
            for r in reminders.get(order.pk, [])
        )
        claim_view = Claim(email.pk, order, email.kind, email.lead_hours, email.attempts, superseded=superseded)
        reason = why_not_send(claim_view, now)
        if email.kind == EmailKind.LICENCE_REQUEST:
            to = by_partner.get(order.customer.partner_id, [])
        else:
            to = by_customer.get(order.customer_id, [])
        if reason is not None:
            action = f"skip {email.label.lower()} ({reason.removeprefix('Not sent: ').rstrip('.')})"
        elif not to:
            action = label.replace("send", "skip", 1) + " (no active manager)"
        else:
            action = label
        plan.append(PlannedEmail(email=email, action=action, recipients=to))
    return plan


def plan_due_alerts(now: datetime | None = None, limit: int | None = None) -> list[PlannedEmail]:
    """What ``send_due_emails`` would do with the seat alerts due now, claiming nothing."""
    now = now or timezone.now()
    live_claim = Q(state=EmailState.CLAIMED, claimed_at__gt=now - claim_timeout())
    due = list(
        SeatAlert.objects.filter(state__in=OPEN_STATES, due_at__lte=now)
        .exclude(live_claim)
        .select_related("customer")
        .order_by("due_at", "pk")[: limit or settings.EXPIRY_SCAN_BATCH_SIZE]
    )
    outbox = emails.Outbox()
    outbox.prepare([], customer_ids={a.customer_id for a in due})
    plan = []
    for alert in due:
        reason = seat_alerts.why_not_send(alert)
        to = outbox.managers_of_customer(alert.customer)
        if reason is not None:
            action = f"skip {alert.label} ({reason.removeprefix('Not sent: ').rstrip('.')})"
        elif not to:
            action = f"skip {alert.label} (no active manager)"
        else:
            action = f"send {alert.label}"
        plan.append(PlannedEmail(email=alert, action=action, recipients=to))
    return plan


def seat_alert_ledger(customer: str | None = None, kind: str | None = None, state: str | None = None):
    """The seat alerts for operators, newest first, filtered like ``ledger``."""
    rows = SeatAlert.objects.select_related("customer").order_by("-due_at", "-pk")
    return _filtered(rows, "customer", customer, kind, state)


# --- Partner dashboard -----------------------------------------------------------------------------


def upcoming_expiries(partner, now: datetime | None = None, days: int = UPCOMING_DAYS, customer=None):
    """The partner's assigned orders expiring within ``days`` (and those expired in
    the last week, so their expiry notices show too), soonest first, with their
    reminders and expiry notice. Two queries whatever the number of rows."""
    now = now or timezone.now()
    orders = LicenceOrder.objects.filter(
        customer__partner=partner,
        customer__is_active=True,
        status=OrderStatus.ASSIGNED,
        expires_at__gt=now - timedelta(days=RECENTLY_EXPIRED_DAYS),
        expires_at__lte=now + timedelta(days=days),
    )
    if customer is not None:
        orders = orders.filter(customer=customer)
    notices = OrderEmail.objects.filter(kind__in=[EmailKind.REMINDER, EmailKind.EXPIRY]).order_by("-lead_hours")
    return (
        orders.select_related("customer")
        .prefetch_related(Prefetch("emails", queryset=notices, to_attr="expiry_emails"))
        .order_by("expires_at", "pk")
    )


def reminders_and_notice(order: LicenceOrder) -> tuple[list[OrderEmail], OrderEmail | None]:
    """The order's prefetched reminders (longest lead first) and its expiry notice."""
    reminders = [e for e in order.expiry_emails if e.kind == EmailKind.REMINDER]
    notice = next((e for e in order.expiry_emails if e.kind == EmailKind.EXPIRY), None)
    return reminders, notice


def ledger(customer: str | None = None, kind: str | None = None, state: str | None = None):
    """The ledger for operators, newest first, filtered by customer (name, schema or id)."""
    rows = OrderEmail.objects.select_related("order__customer").order_by("-due_at", "-pk")
    return _filtered(rows, "order__customer", customer, kind, state)


def _filtered(rows, path: str, customer: str | None, kind: str | None, state: str | None):
    """``rows`` of a ledger of the customer at ``path`` (its name, schema or id), of a
    kind and in a state, each when given."""
    if customer:
        match = Q(**{f"{path}__name__icontains": customer}) | Q(**{f"{path}__schema_name": customer})
        if customer.isdigit():
            match |= Q(**{f"{path}_id": int(customer)})
        rows = rows.filter(match)
    if kind:
        rows = rows.filter(kind=kind)
    if state:
        rows = rows.filter(state=state)
    return rows
