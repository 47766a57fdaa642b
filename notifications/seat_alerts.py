"""Seat alerts: a customer's managers are told when new learners wait for a seat
that is not there, and (if the customer asked) when 90 % of its seats are used.

Each alert is an episode in the ledger (notifications.models.SeatAlert): it opens
when the pool first meets the condition and ends when it no longer does, so however
often learners are added meanwhile, the managers hear once; a later exhaustion is a
new episode. ``review_pool`` runs inside the seat engine's transaction (under the
customer's pool lock, from learners.signals.seats_changed) and when an order is
assigned; the partial unique index on open episodes backs the lock up. The emails
are sent by the ledger's sender (notifications.services), claimed like every other."""

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from learners.models import Learner, LearnerStatus
from learners.reads import with_current_allocation
from licences.services import pool_summary
from notifications import events, signals
from notifications.ledger import COMPANY_INACTIVE
from notifications.models import SeatAlert, SeatAlertKind, SeatAlertSettings

NEARLY_FULL_PERCENT = 90

EPISODE_OVER = "Not sent: seats were free again before this alert went out."
NOBODY_WAITS = "Not sent: no learner was waiting for a licence any more."
ALERT_TURNED_OFF = "Not sent: the 90 % alert was turned off."


def waiting_learners(customer) -> int:
    """Active learners without any seat (new learners automatic allocation found no
    seat for), in ``customer``'s schema."""
    with customer:
        learners = with_current_allocation(Learner.objects.filter(status=LearnerStatus.ACTIVE))
        return learners.filter(current__isnull=True).count()


def alert_at_90_percent(customer) -> bool:
    return SeatAlertSettings.objects.filter(customer=customer, alert_at_90_percent=True).exists()


def nearly_full(used: int, total: int) -> bool:
    return total > 0 and used * 100 >= total * NEARLY_FULL_PERCENT


def still_true(kind: str, pool: dict) -> bool:
    """Whether the pool (licences.services.pool_summary) still meets the alert's condition."""
    if kind == SeatAlertKind.EXHAUSTED:
        return pool["free"] <= 0
    return nearly_full(pool["allocated"], pool["total"])


_END_EPISODES_SQL = """
UPDATE notifications_seatalert SET ended_at = %(now)s
WHERE customer_id = %(customer)s AND ended_at IS NULL
  AND ((kind = 'seats_exhausted' AND %(free)s > 0) OR (kind = 'seats_90' AND NOT %(nearly_full)s))
"""

_OPEN_EPISODE_SQL = """
INSERT INTO notifications_seatalert
    (customer_id, kind, started_at, waiting, seats_used, seats_total, due_at, state, attempts,
     recipient_count, message_id, error)
VALUES (%(customer)s, %(kind)s, %(now)s, %(waiting)s, %(used)s, %(total)s, %(now)s, 'pending', 0, 0, '', '')
ON CONFLICT DO NOTHING
RETURNING id
"""


def _open_episode(customer, kind, now, *, waiting, used, total) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            _OPEN_EPISODE_SQL,
            {"customer": customer.pk, "kind": kind, "now": now, "waiting": waiting, "used": used, "total": total},
        )
        row = cursor.fetchone()
    if row is None:
        return None  # an episode of this kind is open already: its managers know
    signals.seat_alert_planned.send(SeatAlert, alert_id=row[0])  # receivers queue its sending
    return row[0]


def review_pool(customer, now: datetime | None = None) -> list[int]:
    """End the episodes whose condition no longer holds and open the ones that now
    do. Two statements when seats are free and use is below 90 %; returns the ids
    of alerts planned."""
    now = now or timezone.now()
    pool = pool_summary(customer, now)
    used, total, free = pool["allocated"], pool["total"], pool["free"]
    full = nearly_full(used, total)
    with connection.cursor() as cursor:
        cursor.execute(_END_EPISODES_SQL, {"now": now, "customer": customer.pk, "free": free, "nearly_full": full})
    planned = []
    if free <= 0:
        waiting = waiting_learners(customer)
        if waiting:
            alert = _open_episode(customer, SeatAlertKind.EXHAUSTED, now, waiting=waiting, used=used, total=total)
            planned.append(alert)
    if full and alert_at_90_percent(customer):
        planned.append(_open_episode(customer, SeatAlertKind.NEARLY_FULL, now, waiting=0, used=used, total=total))
    return [alert for alert in planned if alert is not None]


@transaction.atomic(durable=True)
def set_alert_at_90_percent(customer, enabled: bool, *, acting_user) -> bool:
    """Turn the customer's 90 % alert on or off (audited). Returns whether it changed.
    Turned on while already at 90 %, it alerts now; turned off, a pending one is skipped."""
    # The settings row is locked first, so a double click audits one change, not two.
    current, _ = SeatAlertSettings.objects.select_for_update().get_or_create(customer=customer)
    before = current.alert_at_90_percent
    if before == enabled:
        return False
    current.alert_at_90_percent, current.updated_at = enabled, timezone.now()
    current.save(update_fields=["alert_at_90_percent", "updated_at"])
    events.seat_alerts_changed(actor=acting_user, customer=customer, before=before, after=enabled)
    if enabled:
        review_pool(customer)
    return True


def why_not_send(alert: SeatAlert) -> str | None:
    """The reason a claimed seat alert is no longer true (it is then skipped), or None."""
    if not alert.customer.is_active:
        return COMPANY_INACTIVE
    if alert.ended_at is not None:
        return EPISODE_OVER
    if alert.kind == SeatAlertKind.NEARLY_FULL and not alert_at_90_percent(alert.customer):
        return ALERT_TURNED_OFF
    return None
