"""The partners' weekly digest, copies of expiry notices, and the digest's opt-out.

**When**: Monday 08:00 on the partner's wall clock (``Partner.time_zone``), whatever
DST does: the moment is computed from the local date (in London 08:00 UTC in winter,
07:00 UTC in summer). A beat every few
minutes plans the week's row for each partner whose Monday 08:00 has come (one row per
partner per week: a unique key), then claims each due row with a conditional UPDATE and
sends it, like the order emails (notifications.services). Found late (the beat was
down), it still goes that week; a week that has passed is never sent.

**What**: the partner's customers with licences expiring in the next 30 days (the
renewals read of the Upcoming expiries page, notifications.renewals) and the emails
about its customers' orders that failed in the last week.

**Who**: each active partner manager who has not turned it off, one message each (the
unsubscribe link is theirs), with ``List-Unsubscribe`` and one-click
``List-Unsubscribe-Post``. Customer managers' expiry notices are service emails: there
is no opt-out for them."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import ClassVar

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F, Func, Q, Value
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from notifications import emails, events, renewals, services
from notifications.ledger import claim_timeout
from notifications.models import (
    OPEN_STATES,
    DigestOptOut,
    EmailState,
    OrderEmail,
    PartnerDigest,
    PartnerNotificationSettings,
)
from partners.models import Partner

DIGEST_WEEKDAY = 0  # Monday
DIGEST_TIME = time(8, 0)
DIGEST_ROWS = 50  # customers (and failed emails) listed; the page has the rest
FAILED_SINCE = timedelta(days=7)
UNSUBSCRIBE_SALT = "notifications.digest.unsubscribe"
NOTHING_TO_REPORT = "Not sent: nothing expires in the next 30 days and no email failed."
NO_RECIPIENTS = "Not sent: no partner manager gets the digest."
WEEK_PASSED = "Not sent: its week had passed."


# --- When ------------------------------------------------------------------------------------


def digest_moment(tz, now: datetime) -> tuple[date, datetime]:
    """The Monday of ``now``'s week on the ``tz`` calendar and that Monday 08:00 there."""
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=(local.weekday() - DIGEST_WEEKDAY) % 7)
    return monday, datetime.combine(monday, DIGEST_TIME, tzinfo=tz).astimezone(UTC)


def plan_due_digests(now: datetime) -> int:
    """Plan this week's row of each active partner whose Monday 08:00 has come (a
    partner before its Monday 08:00 waits: last week's was last week's). Conflicts
    with rows already planned are ignored: one row per partner per week."""
    planned = set(
        PartnerDigest.objects.filter(week_of__gte=(now - timedelta(days=8)).date()).values_list("partner_id", "week_of")
    )
    rows = []
    for partner in Partner.objects.filter(is_active=True).only("pk", "time_zone"):
        week_of, due_at = digest_moment(partner.tzinfo, now)
        if due_at <= now and (partner.pk, week_of) not in planned:
            rows.append(PartnerDigest(partner=partner, week_of=week_of, due_at=due_at))
    # A concurrent beat may plan the same rows: the unique key keeps one.
    PartnerDigest.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- Claim, send, record ------------------------------------------------------------------------


def _due(now: datetime):
    live_claim = Q(state=EmailState.CLAIMED, claimed_at__gt=now - claim_timeout())
    return PartnerDigest.objects.filter(state__in=OPEN_STATES, due_at__lte=now).exclude(live_claim)


@dataclass(frozen=True)
class DigestClaim:
    """A digest this run holds; recorded through the ledger's own functions
    (notifications.services), like an order email's claim."""

    email_id: int
    digest: PartnerDigest
    attempt: int
    kind: str = "partner_digest"
    model: ClassVar = PartnerDigest
    label: ClassVar = "Digest"


def claim(digest_id: int, now: datetime) -> DigestClaim | None:
    """Take one digest for this run with one conditional UPDATE, or None when another
    run holds it or it is settled. Only a row of the current week is sent: a retry
    or a claim left over from a week that has passed is skipped."""
    taken = _due(now).filter(pk=digest_id).update(state=EmailState.CLAIMED, claimed_at=now, attempts=F("attempts") + 1)
    if not taken:
        return None
    digest = PartnerDigest.objects.select_related("partner").get(pk=digest_id)
    return DigestClaim(email_id=digest.pk, digest=digest, attempt=digest.attempts)


def recipients(partner) -> list[User]:
    """The partner's active managers who have not turned the digest off."""
    return list(
        User.objects.filter(partner=partner, role=Role.PARTNER_MANAGER, is_active=True, digest_opt_out__isnull=True)
        .order_by("email")
        .only("pk", "email", "full_name", "partner_id")
    )


def contents(partner, now: datetime) -> dict:
    """What the digest says: the customers to renew (the renewals read, soonest
    first, at most DIGEST_ROWS) and the emails that failed in the last week."""
    to_renew = list(renewals.customers_to_renew(partner, now, recent_days=0)[: DIGEST_ROWS + 1])
    failed = list(
        OrderEmail.objects.filter(
            order__customer__partner=partner, state=EmailState.FAILED, due_at__gt=now - FAILED_SINCE
        )
        .select_related("order__customer")
        .order_by("-due_at", "-pk")[: DIGEST_ROWS + 1]
    )
    return {
        "to_renew": to_renew[:DIGEST_ROWS],
        "more_to_renew": len(to_renew) > DIGEST_ROWS,
        "failed": failed[:DIGEST_ROWS],
        "more_failed": len(failed) > DIGEST_ROWS,
        "days": renewals.UPCOMING_DAYS,
    }


def unsubscribe_token(user) -> str:
    return signing.dumps({"u": user.pk}, salt=UNSUBSCRIBE_SALT, compress=False)


def user_of_token(token: str) -> User | None:
    """The partner manager a signed unsubscribe link was made for, or None (tampered,
    made for another purpose, or no longer a partner manager)."""
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    user_id = payload.get("u") if isinstance(payload, dict) else None
    if not isinstance(user_id, int):
        return None
    return User.objects.filter(pk=user_id, role=Role.PARTNER_MANAGER).select_related("partner").first()


def unsubscribe_url(user) -> str:
    return settings.SITE_URL + reverse("notifications:digest_unsubscribe", args=[unsubscribe_token(user)])


def _send_one(partner, user, context: dict, connection=None) -> str:
    link = unsubscribe_url(user)
    headers = {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    context = context | {"user": user, "unsubscribe_url": link, "time_zone": partner.time_zone}
    return emails.send("partner-digest", [user.email], context, connection, headers=headers)


def deliver(taken: DigestClaim, now: datetime, connection=None) -> str:
    """Send a claimed digest to each recipient not yet sent it, recording each one,
    and settle the row: sent, skipped (nothing to say or nobody to tell), retrying
    (a transient provider error) or failed. ``connection``: the pass's connection to
    the email backend (one is opened per email without it)."""
    digest, partner = taken.digest, taken.digest.partner
    week_of, _ = digest_moment(partner.tzinfo, now)
    if digest.week_of != week_of or not partner.is_active:
        return services.record_skipped(taken, WEEK_PASSED)
    context = contents(partner, now)
    if not context["to_renew"] and not context["failed"]:
        return services.record_skipped(taken, NOTHING_TO_REPORT)
    people = [u for u in recipients(partner) if u.pk not in digest.sent_to]
    if not people and not digest.sent_to:
        return services.record_skipped(taken, NO_RECIPIENTS)
    context |= {
        "partner": partner,
        "expiring_url": emails.absolute_url("notifications:upcoming_expiries"),
        "settings_url": emails.absolute_url("notifications:partner_settings"),
    }
    for user in people:
        try:
            _send_one(partner, user, context, connection)
        except Exception as error:
            return services.record_send_error(taken, error, now)
        # Recorded at once (still this attempt's claim): a retry never sends it to this manager again.
        PartnerDigest.objects.filter(pk=digest.pk, state=EmailState.CLAIMED, attempts=taken.attempt).update(
            sent_to=Func(F("sent_to"), Value(user.pk), function="array_append")
        )
    services.record(taken, state=EmailState.SENT, sent_at=timezone.now(), error="")
    return EmailState.SENT


def send_digest_now(partner, now: datetime | None = None) -> str | None:
    """This week's digest of ``partner``, now rather than on Monday (seed_demo, an
    operator's catch-up). Still once per week: the Monday beat finds it settled.
    Returns its new state, or None when it had been dealt with already."""
    now = now or timezone.now()
    week_of, due_at = digest_moment(partner.tzinfo, now)
    row, _ = PartnerDigest.objects.get_or_create(
        partner=partner, week_of=week_of, defaults={"due_at": min(due_at, now)}
    )
    PartnerDigest.objects.filter(pk=row.pk, state=EmailState.PENDING).update(due_at=min(row.due_at, now))
    taken = claim(row.pk, now)
    return deliver(taken, now) if taken is not None else None


def send_due_digests(now: datetime | None = None) -> dict:
    """One beat: plan the week's digests that have come due, then claim and send
    each. Safe to run twice or at once: each digest goes to each manager once."""
    now = now or timezone.now()
    planned = plan_due_digests(now)
    outcomes: dict[str, int] = {"planned": planned}
    due = list(_due(now).order_by("due_at", "pk").values_list("pk", flat=True)[:200])
    if not due:
        return outcomes
    with emails.Outbox() as outbox:  # one connection to the email backend for the pass
        for digest_id in due:
            digest = claim(digest_id, now)
            if digest is None:
                outcomes["held_elsewhere"] = outcomes.get("held_elsewhere", 0) + 1
                continue
            state = deliver(digest, now, outbox.connection)
            outcomes[state] = outcomes.get(state, 0) + 1
    return outcomes


# --- Settings: copies and the opt-out ------------------------------------------------------------


def copies_on(partner) -> bool:
    return PartnerNotificationSettings.objects.filter(partner=partner, copy_managers_on_expiry=True).exists()


@transaction.atomic(durable=True)
def set_notice_copies(partner, copy: bool, *, acting_user) -> bool:
    """Copy (or stop copying) the partner's managers on its customers' expiry
    notices. Returns whether anything changed (only a change is audited)."""
    current, _ = PartnerNotificationSettings.objects.select_for_update().get_or_create(partner=partner)
    if current.copy_managers_on_expiry == copy:
        return False
    current.copy_managers_on_expiry = copy
    current.save(update_fields=["copy_managers_on_expiry"])
    events.notice_copies_changed(actor=acting_user, partner=partner, copy=copy)
    return True


def gets_digest(user) -> bool:
    return not DigestOptOut.objects.filter(user=user).exists()


@transaction.atomic(durable=True)
def set_digest(user, subscribed: bool, *, via: str) -> bool:
    """Turn ``user``'s weekly digest on or off; only partner managers have one.
    Idempotent (a second click, a mail client's one-click POST): returns whether
    anything changed, and only a change is audited."""
    if not user.is_partner_manager:
        raise ValueError("Only partner managers get the weekly digest.")
    if subscribed:
        changed = DigestOptOut.objects.filter(user=user).delete()[0] > 0
    else:
        changed = DigestOptOut.objects.get_or_create(user=user)[1]
    if changed:
        events.digest_subscription_changed(user=user, subscribed=subscribed, via=via)
    return changed
