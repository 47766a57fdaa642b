"""Sending the ledger: every email about an order, each sent once.

The scheduler's periodic task, the one-off tasks (licence request, licences ready),
the operators' command and the tests all go through ``deliver_due``. How it keeps
each email to one:

1. **Scan**: one indexed query on the public schema, ``due_at <= now`` over a partial
   index that holds only the emails still to deal with (pending, claimed, retrying),
   oldest first, at most a batch. Its cost grows with the emails due, not with the
   number of customers, orders or the history.
2. **Claim**, per email, with one conditional UPDATE (healthchecks' way): the row
   becomes ``claimed`` only if it is still due and open. A claim is a lease: no scan
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
   record is conditional on the claim still being ours.

The one window left is a worker that dies after the provider accepted a message
and before step 5 commits: that email goes out again when its claim is taken over.
Sending first and recording after is the choice that never loses one.
"""

import logging
import smtplib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from anymail.exceptions import AnymailAPIError, AnymailConfigurationError, AnymailError
from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from accounts.models import Role, User
from learners import carry_over
from licences.models import LicenceOrder, OrderStatus
from notifications import emails, signals
from notifications.models import OPEN_STATES, EmailKind, EmailState, OrderEmail
from notifications.planning import SCHEDULE_CHANGED

logger = logging.getLogger(__name__)

RETRY_BACKOFF_FIRST = timedelta(minutes=5)
RETRY_BACKOFF_MAX = timedelta(hours=2)
UPCOMING_DAYS = 30
RECENTLY_EXPIRED_DAYS = 7

STALE_REMINDER = "Not sent: the licences had expired before this reminder went out."
SUPERSEDED_REMINDER = "Not sent: a later reminder of this order was due too; only that one went out."
STALE_READY = "Not sent: the licences had expired before this email went out."
NOT_ASSIGNED = "Not sent: the order is no longer assigned."
NO_RECIPIENTS = "Not sent: nobody to send it to (no active manager)."
COMPANY_INACTIVE = "Not sent: the company is deactivated."


def claim_timeout() -> timedelta:
    return timedelta(seconds=settings.EXPIRY_CLAIM_TIMEOUT_SECONDS)


def retry_backoff(attempt: int) -> timedelta:
    """How long to wait after failed attempt number ``attempt``: 5 min, 10, 20... 2 h."""
    return min(RETRY_BACKOFF_FIRST * 2 ** max(attempt - 1, 0), RETRY_BACKOFF_MAX)


# --- Transient or permanent: what the provider's error says -----------------------------


def is_transient(error: BaseException) -> bool:
    """Worth another try later: the provider or the network failed, not the message.

    Permanent: the provider refused the message or its recipients (anymail's
    RecipientsRefused, InvalidAddress, a 4xx API answer other than 429; an SMTP 5xx).
    Anything unexpected is treated as transient: it is retried a bounded number of
    times, then recorded as failed, so a fix deployed in between still sends it."""
    if isinstance(error, AnymailAPIError):
        status = error.status_code
        return status is None or status == 429 or status >= 500
    if isinstance(error, AnymailConfigurationError):
        return True  # operators fix the configuration; the retry then succeeds
    if isinstance(error, AnymailError):
        return False
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return True


def describe(error: BaseException) -> str:
    """The error as operators read it in the ledger: its type and message."""
    try:
        text = str(error)
    except Exception:  # a malformed provider error must not hide the original one
        text = repr(error)
    return f"{type(error).__name__}: {text}"[:2000]


# --- Scan ------------------------------------------------------------------------------------


def due_emails(now: datetime, limit: int):
    """Emails due, oldest first, as a queryset (for the dry run): pending or waiting
    to retry, or claimed by a run that stopped (its lease ran out)."""
    live_claim = Q(state=EmailState.CLAIMED, claimed_at__gt=now - claim_timeout())
    due = OrderEmail.objects.filter(state__in=OPEN_STATES, due_at__lte=now).exclude(live_claim)
    return due.order_by("due_at", "pk")[:limit]


# The scan the scheduler runs every few minutes, the same as ``due_emails``, written
# out: one range read of the partial index on due_at, no join, and none of the
# ORM's per-call compiling (half the time of a sub-millisecond query).
_SCAN_SQL = """
SELECT id FROM notifications_orderemail
WHERE due_at <= %(now)s AND state IN ('pending', 'claimed', 'retrying')
  AND (state <> 'claimed' OR claimed_at <= %(stale_before)s)
ORDER BY due_at, id
LIMIT %(limit)s
"""


def due_email_ids(now: datetime, limit: int) -> list[int]:
    """The scan: ids of the emails due, oldest first, at most ``limit``."""
    with connection.cursor() as cursor:
        cursor.execute(_SCAN_SQL, {"now": now, "stale_before": now - claim_timeout(), "limit": limit})
        return [email_id for (email_id,) in cursor.fetchall()]


# --- Claim -----------------------------------------------------------------------------------

# Still due and open (a claim is open again once its lease ran out), and, for an
# expiry notice, no reminder of the same order being sent right now.
_CLAIM_SQL = """
UPDATE notifications_orderemail AS e
SET state = 'claimed', claimed_at = %(now)s, attempts = e.attempts + 1
WHERE e.id = %(id)s AND e.due_at <= %(now)s AND e.state IN ('pending', 'claimed', 'retrying')
  AND (e.state <> 'claimed' OR e.claimed_at <= %(stale_before)s)
  AND NOT (e.kind = 'expiry' AND EXISTS (
      SELECT 1 FROM notifications_orderemail r
      WHERE r.order_id = e.order_id AND r.kind = 'reminder' AND r.state = 'claimed'
        AND r.claimed_at > %(stale_before)s))
RETURNING e.order_id, e.kind, e.lead_hours, e.attempts
"""


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


def _superseded_by_later_reminder(claimed_lead: int, now: datetime):
    later = OrderEmail.objects.filter(
        order=OuterRef("pk"), kind=EmailKind.REMINDER, lead_hours__lt=claimed_lead, due_at__lte=now
    ).exclude(state=EmailState.SKIPPED, error=SCHEDULE_CHANGED)
    return Exists(later)


def claim(email_id: int, now: datetime) -> Claim | None:
    """Take email ``email_id`` for this run, or return None when it is not this run's
    to send (not due, settled, or held by another run). Two queries: the claim, and
    the order with its customer and partner (and, for a reminder, whether a later
    one is due too)."""
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, {"id": email_id, "now": now, "stale_before": now - claim_timeout()})
        row = cursor.fetchone()
    if row is None:
        return None
    order_id, kind, lead_hours, attempt = row
    orders = LicenceOrder.objects.select_related("customer__partner")
    if kind == EmailKind.REMINDER:
        orders = orders.annotate(superseded=_superseded_by_later_reminder(lead_hours, now))
    order = orders.get(pk=order_id)
    return Claim(
        email_id=email_id,
        order=order,
        kind=kind,
        lead_hours=lead_hours,
        attempt=attempt,
        superseded=getattr(order, "superseded", False),
    )


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


def _ours(claim: Claim):
    return OrderEmail.objects.filter(pk=claim.email_id, state=EmailState.CLAIMED, attempts=claim.attempt)


def record_sent(claim: Claim, message_id: str, recipient_count: int) -> str:
    if recipient_count:
        state, changes = EmailState.SENT, {"sent_at": timezone.now(), "error": ""}
    else:
        state, changes = EmailState.SKIPPED, {"error": NO_RECIPIENTS}
    updated = _ours(claim).update(
        state=state, message_id=(message_id or "")[:255], recipient_count=recipient_count, **changes
    )
    if not updated:
        logger.warning("Email %s was taken over while being sent; it may have gone out twice.", claim.email_id)
    return state


def record_skipped(claim: Claim, reason: str) -> str:
    _ours(claim).update(state=EmailState.SKIPPED, error=reason)
    return EmailState.SKIPPED


def record_send_error(claim: Claim, error: BaseException, now: datetime) -> str:
    if is_transient(error) and claim.attempt < settings.EXPIRY_MAX_SEND_ATTEMPTS:
        retry_at = now + retry_backoff(claim.attempt)
        if claim.kind == EmailKind.REMINDER:
            # A reminder's retry never delays the expiry notice: at expiry it is skipped.
            retry_at = min(retry_at, claim.order.expires_at)
        _ours(claim).update(state=EmailState.RETRYING, due_at=retry_at, error=describe(error))
        logger.warning(
            "Email %s, attempt %s failed; retrying at %s: %s", claim.email_id, claim.attempt, retry_at, error
        )
        return EmailState.RETRYING
    _ours(claim).update(state=EmailState.FAILED, error=describe(error))
    logger.error("Email %s failed after %s attempt(s): %s", claim.email_id, claim.attempt, error)
    return EmailState.FAILED


def _send(claim: Claim, now: datetime) -> tuple[str, int]:
    order = claim.order
    if claim.kind == EmailKind.LICENCE_REQUEST:
        return emails.licence_request_waiting(order)
    if claim.kind == EmailKind.LICENCES_READY:
        return emails.licences_ready(order)
    if claim.kind == EmailKind.REMINDER:
        return emails.expiry_reminder(order, now=now)
    # About to send the expiry notice of ``order`` (hook point: docs/architecture.md):
    # carry-over at expiry, if the customer chose it, runs here, once per order.
    return emails.expiry_notice(order, carried_over=carry_over.at_expiry(order, now))


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


def deliver(claim: Claim, now: datetime) -> str:
    """Send a claimed email, or skip it when it is no longer true, and record the
    outcome; returns the email's new state."""
    reason = why_not_send(claim, now)
    _tell_the_apps_above(claim, reason)
    if reason is not None:
        return record_skipped(claim, reason)
    try:
        message_id, recipient_count = _send(claim, now)
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


def send_due_emails(now: datetime | None = None, limit: int | None = None) -> RunSummary:
    """One pass of the scheduler: scan, then claim, send and record each due email.

    ``now`` fixes the clock (tests, a catch-up by hand); by default each claim reads
    the clock afresh, so a long batch does not shorten the later claims' leases."""
    limit = limit or settings.EXPIRY_SCAN_BATCH_SIZE
    clock = (lambda: now) if now is not None else timezone.now
    summary = RunSummary(batch_size=limit)
    email_ids = due_email_ids(clock(), limit)
    summary.scanned = len(email_ids)
    for email_id in email_ids:
        deliver_one(email_id, clock(), summary)
    return summary


def send_order_email(order_id: int, kind: str, now: datetime | None = None) -> str | None:
    """Send one of the order's one-off emails now, if it is due and nobody has (the
    task queued on the order's commit; the beat's scan catches it otherwise)."""
    email_id = (
        OrderEmail.objects.filter(order_id=order_id, kind=kind, lead_hours=0).values_list("pk", flat=True).first()
    )
    if email_id is None:
        return None
    return deliver_one(email_id, now or timezone.now())


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
    if customer:
        match = Q(order__customer__name__icontains=customer) | Q(order__customer__schema_name=customer)
        if customer.isdigit():
            match |= Q(order__customer_id=int(customer))
        rows = rows.filter(match)
    if kind:
        rows = rows.filter(kind=kind)
    if state:
        rows = rows.filter(state=state)
    return rows
