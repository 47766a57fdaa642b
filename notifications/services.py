"""Expiry notifications: the 72-hour reminder and the expiry notice, each sent once.

The scheduler's periodic task, the operators' command and the tests all call
``send_due_notices``. How it keeps each notice to one email:

1. **Scan**: one indexed query on the public schema, ``next_notice_at <= now``
   (a partial index holds only orders with a notice still to deal with), oldest
   first, at most a batch. Its cost grows with the notices due, not with the number
   of customers or the history.
2. **Claim**, per order, in one short transaction: lock the order row (``SKIP
   LOCKED``: another run has it), decide the kind (before ``expires_at`` the
   reminder, from then on the expiry notice, a reminder never sent being recorded
   as skipped), then insert the ledger row, or take over a claim left by a dead
   worker (older than the timeout) or one waiting to retry. The unique constraint
   on (order, kind) decides between racing runs. The order's ``next_notice_at``
   moves to the end of the claim's lease, so no scan sees it meanwhile.
3. **Send**, outside any transaction.
4. **Record**: the ledger row becomes sent (with the provider's message id), and
   ``next_notice_at`` moves to the next notice (``expires_at`` after the reminder,
   NULL after the expiry notice). Both updates are conditional on the claim still
   being ours. A transient provider error leaves the row waiting to retry and moves
   ``next_notice_at`` to the retry time (backoff); a permanent one, or too many
   attempts, records it as failed with the error, for operators to see.

The one window left is a worker that dies after the provider accepted a message
and before step 4 commits: that notice goes out again when its claim is taken
over. Sending first and recording after is the choice that never loses one.
"""

import logging
import smtplib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from anymail.exceptions import AnymailAPIError, AnymailConfigurationError, AnymailError
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from accounts.models import Role, User
from licences.models import LicenceOrder, OrderStatus
from notifications import emails, signals
from notifications.models import ExpiryNotice, NoticeKind, NoticeState
from notifications.schedule import reminder_due_at

logger = logging.getLogger(__name__)

RETRY_BACKOFF_FIRST = timedelta(minutes=5)
RETRY_BACKOFF_MAX = timedelta(hours=2)
UPCOMING_DAYS = 30
RECENTLY_EXPIRED_DAYS = 7

STALE_REMINDER = "Not sent: the licences had expired before this reminder went out."
NO_RECIPIENTS = "Not sent: the company has no active customer manager."
COMPANY_INACTIVE = "Not sent: the company is deactivated."

SENDERS = {NoticeKind.REMINDER_72H: emails.expiry_reminder, NoticeKind.EXPIRY: emails.expiry_notice}


def claim_timeout() -> timedelta:
    return timedelta(seconds=settings.EXPIRY_CLAIM_TIMEOUT_SECONDS)


def retry_backoff(attempt: int) -> timedelta:
    """How long to wait after failed attempt number ``attempt``: 5 min, 10, 20... 2 h."""
    return min(RETRY_BACKOFF_FIRST * 2 ** max(attempt - 1, 0), RETRY_BACKOFF_MAX)


def kind_due(order: LicenceOrder, now: datetime) -> str | None:
    """Which notice is true of ``order`` at ``now``: none before the 72-hour window,
    the reminder inside it, the expiry notice from ``expires_at`` on."""
    if order.status != OrderStatus.ASSIGNED or order.expires_at is None:
        return None
    if now >= order.expires_at:
        return NoticeKind.EXPIRY
    if now >= reminder_due_at(order.expires_at):
        return NoticeKind.REMINDER_72H
    return None


def next_notice_after(kind: str, order: LicenceOrder) -> datetime | None:
    """When the order needs the scheduler again once ``kind`` is dealt with."""
    return order.expires_at if kind == NoticeKind.REMINDER_72H else None


def _not_after_expiry(moment: datetime, kind: str, order: LicenceOrder) -> datetime:
    # A reminder's retry never delays the expiry notice: at expiry the reminder is
    # no longer true and is skipped. (A claim's lease is not cut short this way:
    # a reminder being sent is finished, or its claim times out, before the expiry
    # notice is claimed, so the two never overlap.)
    return min(moment, order.expires_at) if kind == NoticeKind.REMINDER_72H else moment


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


def due_orders(now: datetime, limit: int):
    """Orders with a notice due, oldest first, as a queryset (for the dry run)."""
    return LicenceOrder.objects.filter(next_notice_at__lte=now).order_by("next_notice_at")[:limit]


# The scan the scheduler runs every few minutes, the same as ``due_orders``, written
# out: one range read of the partial index on next_notice_at, no join, and none of
# the ORM's per-call compiling (half the time of a sub-millisecond query).
_SCAN_SQL = """
SELECT id FROM licences_licenceorder
WHERE next_notice_at <= %s
ORDER BY next_notice_at
LIMIT %s
"""


def due_order_ids(now: datetime, limit: int) -> list[int]:
    """The scan: ids of the orders with a notice due, oldest first, at most ``limit``."""
    with connection.cursor() as cursor:
        cursor.execute(_SCAN_SQL, [now, limit])
        return [order_id for (order_id,) in cursor.fetchall()]


# --- Claim -----------------------------------------------------------------------------------

_CLAIM_SQL = """
INSERT INTO notifications_expirynotice AS notice
    (order_id, kind, state, claimed_at, attempts, recipient_count, message_id, error)
VALUES (%(order)s, %(kind)s, 'claimed', %(now)s, 1, 0, '', '')
ON CONFLICT (order_id, kind) DO UPDATE
    SET state = 'claimed', claimed_at = EXCLUDED.claimed_at, attempts = notice.attempts + 1
    WHERE (notice.state = 'claimed' AND notice.claimed_at <= %(stale_before)s) OR notice.state = 'retrying'
RETURNING notice.id, notice.attempts
"""

# Record a notice as skipped, unless it was already settled or is being sent now.
_SKIP_SQL = """
INSERT INTO notifications_expirynotice AS notice
    (order_id, kind, state, claimed_at, attempts, recipient_count, message_id, error)
VALUES (%(order)s, %(kind)s, 'skipped', %(now)s, 0, 0, '', %(reason)s)
ON CONFLICT (order_id, kind) DO UPDATE
    SET state = 'skipped', error = EXCLUDED.error
    WHERE (notice.state = 'claimed' AND notice.claimed_at <= %(stale_before)s) OR notice.state = 'retrying'
RETURNING notice.id
"""


@dataclass(frozen=True)
class Claim:
    """A notice this run holds: it may send it, and only this attempt may record it."""

    notice_id: int
    order: LicenceOrder
    kind: str
    attempt: int
    lease_until: datetime


def _upsert(sql: str, **params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _skip(order: LicenceOrder, kind: str, now: datetime, reason: str) -> bool:
    row = _upsert(_SKIP_SQL, order=order.pk, kind=kind, now=now, reason=reason, stale_before=now - claim_timeout())
    return row is not None


def _reschedule(order: LicenceOrder, next_notice_at: datetime | None):
    order.next_notice_at = next_notice_at
    order.save(update_fields=["next_notice_at"])


@transaction.atomic(durable=True)
def claim_notice(order_id: int, now: datetime, tally: Counter | None = None) -> Claim | None:
    """Take the notice due on order ``order_id`` for this run, or return None when
    there is nothing for this run to send (another run holds the order, the notice
    is settled, or it was skipped)."""
    tally = tally if tally is not None else Counter()
    order = (
        LicenceOrder.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("customer")
        .filter(pk=order_id, next_notice_at__lte=now)
        .first()
    )
    if order is None:
        tally["held_elsewhere"] += 1
        return None
    kind = kind_due(order, now)
    if kind is None:
        # Not assigned, or not in the window yet: put the schedule right.
        live = order.status == OrderStatus.ASSIGNED and order.expires_at is not None
        _reschedule(order, reminder_due_at(order.expires_at) if live else None)
        return None
    if kind == NoticeKind.EXPIRY and _skip(order, NoticeKind.REMINDER_72H, now, STALE_REMINDER):
        # Rule 6: after an outage the reminder is no longer true; the expiry notice says it all.
        tally["skipped"] += 1
    if not order.customer.is_active:
        _skip(order, kind, now, COMPANY_INACTIVE)
        _reschedule(order, next_notice_after(kind, order))
        tally["skipped"] += 1
        return None

    row = _upsert(_CLAIM_SQL, order=order.pk, kind=kind, now=now, stale_before=now - claim_timeout())
    if row is None:
        notice = ExpiryNotice.objects.get(order=order, kind=kind)
        if notice.is_settled:
            _reschedule(order, next_notice_after(kind, order))
        else:
            # A live claim whose lease the order had lost: wait for it to end.
            _reschedule(order, notice.claimed_at + claim_timeout())
            tally["held_elsewhere"] += 1
        return None
    notice_id, attempt = row
    if attempt == 1:
        told = signals.licences_expired if kind == NoticeKind.EXPIRY else signals.licences_expiring
        told.send(LicenceOrder, order=order, kind=kind)
    lease_until = now + claim_timeout()
    _reschedule(order, lease_until)
    return Claim(notice_id=notice_id, order=order, kind=kind, attempt=attempt, lease_until=lease_until)


# --- Send and record -------------------------------------------------------------------------


def _ours(claim: Claim):
    return ExpiryNotice.objects.filter(pk=claim.notice_id, state=NoticeState.CLAIMED, attempts=claim.attempt)


def _release(claim: Claim, next_notice_at: datetime | None):
    """Hand the order back to the schedule, unless another run has taken it over."""
    LicenceOrder.objects.filter(pk=claim.order.pk, next_notice_at=claim.lease_until).update(
        next_notice_at=next_notice_at
    )


@transaction.atomic(durable=True)
def record_sent(claim: Claim, message_id: str, recipient_count: int) -> str:
    if recipient_count:
        state, changes = NoticeState.SENT, {"sent_at": timezone.now(), "error": ""}
    else:
        state, changes = NoticeState.SKIPPED, {"error": NO_RECIPIENTS}
    updated = _ours(claim).update(
        state=state, message_id=(message_id or "")[:255], recipient_count=recipient_count, **changes
    )
    if not updated:
        logger.warning("Notice %s was taken over while being sent; it may have gone out twice.", claim.notice_id)
        return state
    _release(claim, next_notice_after(claim.kind, claim.order))
    return state


@transaction.atomic(durable=True)
def record_send_error(claim: Claim, error: BaseException, now: datetime) -> str:
    if is_transient(error) and claim.attempt < settings.EXPIRY_MAX_SEND_ATTEMPTS:
        retry_at = _not_after_expiry(now + retry_backoff(claim.attempt), claim.kind, claim.order)
        if _ours(claim).update(state=NoticeState.RETRYING, error=describe(error)):
            _release(claim, retry_at)
        logger.warning(
            "Notice %s, attempt %s failed; retrying at %s: %s", claim.notice_id, claim.attempt, retry_at, error
        )
        return NoticeState.RETRYING
    if _ours(claim).update(state=NoticeState.FAILED, error=describe(error)):
        _release(claim, next_notice_after(claim.kind, claim.order))
    logger.error("Notice %s failed after %s attempt(s): %s", claim.notice_id, claim.attempt, error)
    return NoticeState.FAILED


def deliver(claim: Claim, now: datetime) -> str:
    """Send a claimed notice and record the outcome; returns the notice's new state."""
    try:
        message_id, recipient_count = SENDERS[claim.kind](claim.order)
    except Exception as error:
        if not isinstance(error, AnymailError | smtplib.SMTPException | OSError):
            logger.exception("Unexpected error sending notice %s", claim.notice_id)
        return record_send_error(claim, error, now)
    return record_sent(claim, message_id, recipient_count)


@dataclass
class RunSummary:
    """What one pass did: how many due orders it scanned, and what became of them
    (``sent``, ``retrying``, ``failed``, ``skipped``; ``held_elsewhere``: another
    run had them)."""

    batch_size: int
    scanned: int = 0
    claimed: int = 0
    outcomes: Counter = field(default_factory=Counter)

    @property
    def more_may_be_due(self) -> bool:
        # A full batch of which this run moved at least one order on: the next
        # batch may hold more. Orders held elsewhere are that run's to finish.
        return self.scanned >= self.batch_size and self.scanned > self.outcomes["held_elsewhere"]

    def as_dict(self) -> dict:
        return {"scanned": self.scanned, "claimed": self.claimed, **{str(k): v for k, v in self.outcomes.items()}}


def send_due_notices(now: datetime | None = None, limit: int | None = None) -> RunSummary:
    """One pass of the scheduler: scan, then claim, send and record each due notice.

    ``now`` fixes the clock (tests, a catch-up by hand); by default each claim reads
    the clock afresh, so a long batch does not shorten the later claims' leases."""
    limit = limit or settings.EXPIRY_SCAN_BATCH_SIZE
    clock = (lambda: now) if now is not None else timezone.now
    summary = RunSummary(batch_size=limit)
    order_ids = due_order_ids(clock(), limit)
    summary.scanned = len(order_ids)
    for order_id in order_ids:
        moment = clock()
        claim = claim_notice(order_id, moment, summary.outcomes)
        if claim is not None:
            summary.claimed += 1
            summary.outcomes[deliver(claim, moment)] += 1
    return summary


# --- Dry run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedNotice:
    order: LicenceOrder
    kind: str | None
    action: str
    recipients: list[str]


def plan_due_notices(now: datetime | None = None, limit: int | None = None) -> list[PlannedNotice]:
    """What ``send_due_notices`` would do now, claiming nothing. Three queries."""
    now = now or timezone.now()
    orders = list(due_orders(now, limit or settings.EXPIRY_SCAN_BATCH_SIZE).select_related("customer"))
    ledger = {(n.order_id, n.kind): n for n in ExpiryNotice.objects.filter(order__in=[o.pk for o in orders])}
    recipients: dict[int, list[str]] = {}
    managers = User.objects.filter(
        customer__in={o.customer_id for o in orders}, role=Role.CUSTOMER_MANAGER, is_active=True
    ).order_by("email")
    for customer_id, email in managers.values_list("customer_id", "email"):
        recipients.setdefault(customer_id, []).append(email)

    stale_before = now - claim_timeout()
    plan = []
    for order in orders:
        kind = kind_due(order, now)
        notice = ledger.get((order.pk, kind))
        to = recipients.get(order.customer_id, [])
        if kind is None:
            action = "reschedule (no notice due)"
        elif not order.customer.is_active:
            action = "skip (company deactivated)"
        elif notice is not None and notice.is_settled:
            action = f"reschedule (already {notice.get_state_display().lower()})"
        elif notice is not None and notice.state == NoticeState.CLAIMED and notice.claimed_at > stale_before:
            action = "wait (being sent by another run)"
        else:
            label = "send 72-hour reminder" if kind == NoticeKind.REMINDER_72H else "send expiry notice"
            if notice is not None:
                label += f" (attempt {notice.attempts + 1})"
            reminder = ledger.get((order.pk, NoticeKind.REMINDER_72H))
            if kind == NoticeKind.EXPIRY and (reminder is None or not reminder.is_settled):
                label = "skip stale 72-hour reminder, " + label
            action = label if to else label.replace("send", "skip", 1) + " (no active manager)"
        plan.append(PlannedNotice(order=order, kind=kind, action=action, recipients=to))
    return plan


# --- Partner dashboard -----------------------------------------------------------------------------


def upcoming_expiries(partner, now: datetime | None = None, days: int = UPCOMING_DAYS, customer=None):
    """The partner's assigned orders expiring within ``days`` (and those expired in
    the last week, so their expiry notices show too), soonest first, with their
    notices.
    Two queries whatever the number of rows."""
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
    return (
        orders.select_related("customer")
        .prefetch_related(Prefetch("notices", queryset=ExpiryNotice.objects.order_by("kind")))
        .order_by("expires_at", "pk")
    )


def notices_by_kind(order: LicenceOrder) -> dict[str, ExpiryNotice]:
    """The order's prefetched notices, keyed by kind (reminder_72h, expiry)."""
    return {notice.kind: notice for notice in order.notices.all()}


def ledger(customer: str | None = None, kind: str | None = None, state: str | None = None):
    """The ledger for operators, newest first, filtered by customer (name, schema or id)."""
    notices = ExpiryNotice.objects.select_related("order__customer").order_by("-claimed_at", "-pk")
    if customer:
        match = Q(order__customer__name__icontains=customer) | Q(order__customer__schema_name=customer)
        if customer.isdigit():
            match |= Q(order__customer_id=int(customer))
        notices = notices.filter(match)
    if kind:
        notices = notices.filter(kind=kind)
    if state:
        notices = notices.filter(state=state)
    return notices
