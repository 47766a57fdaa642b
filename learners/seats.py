# Raw SQL here interpolates only table names taken from the models; every value is a
# query parameter.
# ruff: noqa: S608
"""The seat engine: the only code that writes allocations and orders'
``allocated_count``. It gives seats (allocate, renew) and releases them.

- Every change to a customer's seats first takes that customer's pool lock (a
  transaction-level PostgreSQL advisory lock), so allocations, renewals and
  deactivations of one customer happen one after another whatever the number of web
  workers. The order's ``allocated_count`` is then raised with a conditional
  ``UPDATE`` (``allocated_count + n <= quantity``) in the same transaction, and the
  check constraint on the order backs that up: seats never exceed the quantity
  (rule 2). The partial unique index on current allocations keeps one per learner
  (rule 3).
- Seats come from the valid order that expires last, unless the manager picks one.
  When that order has too few free seats, the rest come from the next-latest valid
  order, and so on: a manager asking for 40 renewals with 30 free seats in the
  newest order and 10 in an older one gets 40. The seat still expires with the order
  it came from.
- Who gets a seat when seats run out: the candidates in their ``position`` order
  (the order the manager sees them in: the Expired Licences list is sorted by email;
  a CSV keeps its row order).
- Bulk work is set-based: a fixed number of SQL statements whatever the number of
  learners (the picks go into a temporary table; one statement writes the history
  rows, one renews the current rows in place, one inserts first seats, one updates
  the orders' counts).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import CharField, F, QuerySet, Value
from django.utils import timezone

from learners import events, reads, signals
from learners.error_codes import LearnerError, LearnerErrorCode
from learners.models import Allocation, Learner, LearnerStatus
from licences.models import LicenceOrder

# A customer's pool lock key: this constant plus the customer's id.
SEAT_POOL_LOCK_BASE = 0x5EA7 << 40

ALLOCATION = Allocation._meta.db_table
ORDER = LicenceOrder._meta.db_table


@dataclass(frozen=True)
class Candidates:
    """Who may get a seat, as one SELECT of ``(learner_id, allocation_id, position,
    reason, order_id, expires_at, allocated_at, allocated_by_id)`` rows: ``reason``
    is NULL for a learner who may get a seat (active, holding no valid one, or, for a
    renewal early, one expiring soon; ``allocation_id`` is their current allocation
    or NULL), or the code of why a row may not (a CSV row that cannot be renewed),
    which is only counted. The last four are that current allocation's (NULL
    without one), read with it: the engine writes them into its history row without
    reading the allocation again. ``at_most`` bounds the rows when the caller knows.

    Made only by the constructors below, from a learners queryset or from the rows
    of a CSV import, so no caller writes SQL for the engine."""

    sql: str
    params: Sequence
    at_most: int | None = None

    @classmethod
    def learners(cls, learners: QuerySet, *, position: str, at_most: int | None = None) -> "Candidates":
        """Learners of a queryset annotated with their ``current`` allocation (see
        learners.reads), each given a seat in ``position`` order. The queryset is the
        one the page lists, so the list and the seats can never disagree."""
        rows = (
            learners.order_by()
            .annotate(
                seat_current_id=F("current__id"),
                seat_reason=Value(None, output_field=CharField()),
                seat_order_id=F("current__order_id"),
                seat_expires_at=F("current__expires_at"),
                seat_allocated_at=F("current__allocated_at"),
                seat_allocated_by_id=F("current__allocated_by_id"),
            )
            .values_list(
                "id",
                "seat_current_id",
                position,
                "seat_reason",
                "seat_order_id",
                "seat_expires_at",
                "seat_allocated_at",
                "seat_allocated_by_id",
            )
        )
        sql, params = rows.query.sql_with_params()
        return cls(sql, tuple(params), at_most)

    @classmethod
    def from_sql(cls, sql: str, params: Sequence = (), *, at_most: int | None = None) -> "Candidates":
        """Rows selected by a statement of the CSV import (learners.imports), which
        reads its temporary table of the file's rows."""
        return cls(sql, tuple(params), at_most)


@dataclass
class AllocationOutcome:
    """What giving seats did: how many learners got one (``allocated``) of those who
    might (``eligible``), from which orders, and the not-eligible rows by reason."""

    allocated: int = 0
    eligible: int = 0
    by_order: dict[int, int] = field(default_factory=dict)
    not_eligible: dict[str, int] = field(default_factory=dict)
    # Seats given back per order id (a renewal early leaves seats that had not expired).
    freed: dict[str, int] = field(default_factory=dict)

    @property
    def not_allocated(self) -> int:
        """Eligible learners left without a seat because the seats ran out."""
        return self.eligible - self.allocated

    @property
    def order_counts(self) -> dict[str, int]:
        """Seats taken per order, for the audit log."""
        return {str(order_id): n for order_id, n in sorted(self.by_order.items())}


def lock_pool(customer) -> None:
    """Take the customer's pool lock until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAT_POOL_LOCK_BASE + customer.pk])
    sort_in_memory()


def sort_in_memory() -> None:
    """Bulk work sorts and hashes up to 200,000 rows: keep that in memory rather
    than spill to disk, and run it without JIT compilation, for this transaction
    only. Its statements look costly to the planner (a CSV's classification is
    estimated above a million), so PostgreSQL compiled each one first: 0.4 s of a
    100,000-row preview's 0.65, for a query that then ran in 0.27 s."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'; SET LOCAL jit = off")


def give_seats(
    customer, candidates: Candidates, *, acting_user, now, order_id=None, expiring_after=None
) -> AllocationOutcome:
    """Give a seat to each candidate, in their ``position`` order, while seats last.
    The caller holds the pool lock, inside a transaction.

    A fixed number of statements whatever the number of learners: the picks
    (candidate, seat source) go into a temporary table, whose real size the planner
    sees; a renewal then copies each expired allocation into an ended history row
    and renews the current row in place, and learners without one get a new row.
    Renewing in place writes no index entry (see Allocation), which makes a
    100,000-learner renewal about twice as fast as ending each row and inserting a
    new one. When one order has seats for every candidate, nobody needs ranking.

    A current seat that has not expired yet (a renewal early; seats come only from
    orders expiring after ``expiring_after``) is ended as ``renewed_early`` and goes
    back to its order for the rest of the order's validity."""
    sources = reads.seat_sources(customer, now, order_id, expiring_after)
    order_ids, expiries, after, upto, taken = [], [], [], [], 0
    for order in sources:
        order_ids.append(order.pk)
        expiries.append(order.expires_at)
        after.append(taken)
        taken += order.free_seats
        upto.append(taken)
    user_id = acting_user.pk if acting_user else None
    if len(sources) == 1 and candidates.at_most is not None and taken >= candidates.at_most:
        # One order has a seat for everyone: no ranking, and no range to look up.
        picked = (
            "CASE WHEN r.reason IS NULL THEN %s::bigint END AS order_id, "
            "CASE WHEN r.reason IS NULL THEN %s::timestamptz END AS expires_at"
        )
        ranked, seat_params = "SELECT * FROM candidates", [order_ids[0], expiries[0]]
        sources_join = ""
    else:
        picked = "s.order_id, s.expires_at"
        ranked = (
            "SELECT *, row_number() OVER (PARTITION BY reason IS NULL ORDER BY position, learner_id) AS rank "
            "FROM candidates"
        )
        seat_params = [order_ids, expiries, after, upto]
        sources_join = """
            LEFT JOIN unnest(%s::bigint[], %s::timestamptz[], %s::bigint[], %s::bigint[])
                AS s (order_id, expires_at, after_rank, upto_rank)
              ON r.reason IS NULL AND r.rank > s.after_rank AND r.rank <= s.upto_rank"""
    outcome = AllocationOutcome()
    renewals = fresh = 0
    freed: dict[int, int] = {}
    with connection.cursor() as cursor:
        # Each pick keeps the values of the seat it replaces (held_*), for its history row.
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE seat_picks AS
            WITH candidates (learner_id, allocation_id, position, reason,
                             held_order_id, held_expires_at, held_allocated_at, held_allocated_by_id)
                AS ({candidates.sql}),
            ranked AS ({ranked})
            SELECT r.learner_id, r.allocation_id, r.reason, r.held_order_id, r.held_expires_at,
                r.held_allocated_at, r.held_allocated_by_id, {picked}
            FROM ranked r {sources_join}
            """,
            [*candidates.params, *seat_params],
        )
        # What was picked, with the seats a renewal early gives back (those not yet expired).
        cursor.execute(
            """
            SELECT reason, order_id, allocation_id IS NULL,
                CASE WHEN order_id IS NOT NULL AND held_expires_at > %s THEN held_order_id END, count(*)
            FROM pg_temp.seat_picks GROUP BY 1, 2, 3, 4
            """,
            [now],
        )
        for reason, picked_order, is_new, given_back, count in cursor.fetchall():
            if reason is not None:
                outcome.not_eligible[reason] = outcome.not_eligible.get(reason, 0) + count
                continue
            outcome.eligible += count
            if picked_order is not None:
                outcome.by_order[picked_order] = outcome.by_order.get(picked_order, 0) + count
                if is_new:
                    fresh += count
                else:
                    renewals += count
                if given_back is not None:
                    freed[given_back] = freed.get(given_back, 0) + count
        outcome.allocated = sum(outcome.by_order.values())
        written = 0
        if renewals:
            cursor.execute(
                f"""
                INSERT INTO {ALLOCATION} (learner_id, order_id, expires_at, allocated_at, allocated_by_id, ended_at, end_reason)
                SELECT learner_id, held_order_id, held_expires_at, held_allocated_at, held_allocated_by_id, %s,
                    CASE WHEN held_expires_at > %s THEN %s ELSE %s END
                FROM pg_temp.seat_picks WHERE order_id IS NOT NULL AND allocation_id IS NOT NULL
                """,
                [now, now, Allocation.EndReason.RENEWED_EARLY, Allocation.EndReason.RENEWED],
            )
            cursor.execute(
                f"""
                UPDATE {ALLOCATION} a
                SET order_id = p.order_id, expires_at = p.expires_at, allocated_at = %s, allocated_by_id = %s
                FROM pg_temp.seat_picks p
                WHERE a.id = p.allocation_id AND p.order_id IS NOT NULL AND a.ended_at IS NULL
                """,
                [now, user_id],
            )
            written += cursor.rowcount
        if fresh:
            cursor.execute(
                f"""
                INSERT INTO {ALLOCATION} (learner_id, order_id, expires_at, allocated_at, allocated_by_id, ended_at, end_reason)
                SELECT learner_id, order_id, expires_at, %s, %s, NULL, '' FROM pg_temp.seat_picks
                WHERE allocation_id IS NULL AND order_id IS NOT NULL
                """,
                [now, user_id],
            )
            written += cursor.rowcount
        cursor.execute("DROP TABLE pg_temp.seat_picks")
        if outcome.by_order:
            used = list(outcome.by_order)
            cursor.execute(
                f"""
                UPDATE {ORDER} o SET allocated_count = o.allocated_count + v.n
                FROM unnest(%s::bigint[], %s::integer[]) AS v (id, n)
                WHERE o.id = v.id AND o.customer_id = %s AND o.status = 'assigned' AND o.expires_at > %s
                  AND o.allocated_count + v.n <= o.quantity
                """,
                [used, [outcome.by_order[i] for i in used], customer.pk, now],
            )
            if cursor.rowcount != len(used) or written != outcome.allocated:
                # Cannot happen while every writer holds the pool lock; if it ever
                # does, nothing of this allocation is kept.
                raise LearnerError(
                    "The free licences changed while allocating. Nothing was changed; try again.",
                    code=LearnerErrorCode.SEATS_CHANGED,
                )
        if freed:
            # Seats left before they expired go back to their orders.
            old = list(freed)
            cursor.execute(
                f"""
                UPDATE {ORDER} o SET allocated_count = o.allocated_count - v.n
                FROM unnest(%s::bigint[], %s::integer[]) AS v (id, n)
                WHERE o.id = v.id AND o.customer_id = %s AND o.allocated_count >= v.n
                """,
                [old, [freed[i] for i in old], customer.pk],
            )
            if cursor.rowcount != len(old):
                raise LearnerError(
                    "The free licences changed while allocating. Nothing was changed; try again.",
                    code=LearnerErrorCode.SEATS_CHANGED,
                )
        outcome.freed = {str(i): n for i, n in sorted(freed.items())}
    if taken == outcome.allocated and outcome.eligible and (order_id is None or not reads.free_seats(customer, now)):
        signals.seats_exhausted.send(Allocation, customer=customer, outcome=outcome, acting_user=acting_user)
    signals.seats_changed.send(Allocation, customer=customer, now=now)
    return outcome


def release_seat(customer, learner, *, now) -> int | None:
    """End the learner's current allocation (they are deactivated): a seat that has
    not expired goes back to its order for the rest of the order's validity. Returns
    that order's id, or None when no seat was freed. The caller holds the pool lock."""
    current = Allocation.objects.filter(learner=learner, ended_at__isnull=True).first()
    if current is None:
        return None
    current.ended_at, current.end_reason = now, Allocation.EndReason.DEACTIVATED
    current.save(update_fields=["ended_at", "end_reason"])
    if current.expires_at <= now:
        return None
    freed = LicenceOrder.objects.filter(
        pk=current.order_id, customer=customer, allocated_count__gt=0, expires_at__gt=now
    ).update(allocated_count=F("allocated_count") - 1)
    return current.order_id if freed else None


# --- Allocating and renewing: the actions the pages call ------------------------------


def allocate(customer, learner_ids, *, acting_user, in_manage_mode=False, order_id=None, now=None):
    """Give a seat to each of these learners who holds no valid one (never licensed,
    or expired), while seats last."""
    now = now or timezone.now()
    ids = sorted({int(i) for i in learner_ids})
    with customer, transaction.atomic(durable=True):
        lock_pool(customer)
        candidates = Candidates.learners(reads.without_valid_licence(ids, now), position="email", at_most=len(ids))
        outcome = give_seats(customer, candidates, acting_user=acting_user, now=now, order_id=order_id)
        events.licences_allocated(
            customer, actor=acting_user, in_manage_mode=in_manage_mode, requested=len(ids), outcome=outcome
        )
    return outcome


def renew_expired(
    customer,
    *,
    acting_user,
    learner_ids=None,
    select_all=False,
    search="",
    order_id=None,
    in_manage_mode=False,
    now=None,
) -> AllocationOutcome:
    """Renew expired learners (Expired Licences → Allocate Licences): those ticked one
    by one (``learner_ids``), or with ``select_all`` every learner the list shows for
    ``search``, across all pages. Learners no longer expired are skipped. Seats go in
    the list's order until they run out."""
    now = now or timezone.now()
    with customer, transaction.atomic(durable=True):
        lock_pool(customer)
        learners = reads.expired_learners(search if select_all else "", now)
        if select_all:
            # Every active learner is a cheap bound on how many Select All may renew.
            at_most = Learner.objects.filter(status=LearnerStatus.ACTIVE).count()
        else:
            ids = sorted({int(i) for i in learner_ids or ()})
            learners, at_most = learners.filter(pk__in=ids), len(ids)
        candidates = Candidates.learners(learners, position="email", at_most=at_most)
        outcome = give_seats(customer, candidates, acting_user=acting_user, now=now, order_id=order_id)
        events.expired_licences_renewed(
            customer,
            actor=acting_user,
            in_manage_mode=in_manage_mode,
            select_all=select_all,
            search=search,
            selected=outcome.eligible if select_all else len(ids),
            outcome=outcome,
        )
        if outcome.allocated:
            selection = "select_all" if select_all else "one_by_one"
            signals.learners_renewed.send(
                Allocation, customer=customer, outcome=outcome, selection=selection, acting_user=acting_user
            )
    return outcome


def renew_early(
    customer,
    *,
    acting_user,
    learner_ids=None,
    select_all=False,
    search="",
    days=reads.DEFAULT_WINDOW,
    order_id=None,
    in_manage_mode=False,
    now=None,
) -> AllocationOutcome:
    """Expiring Soon → Renew Early: move learners whose seat expires within ``days``
    days onto a seat of an order that expires later, before they lose access: those
    ticked one by one (``learner_ids``), or with ``select_all`` every learner the
    list shows for ``search`` and ``days``, across all pages.

    Recomputed now, under the pool lock, in one transaction. Seats come only from
    orders that expire after every selected learner's current seat (the
    latest-expiring first, or ``order_id``); learners no longer expiring in the
    window are skipped; seats go in the list's order (by email) until they run out.
    Each current seat is ended as "renewed early" in the history and goes back to
    its order. A picked order that does not expire later raises LearnerError and
    changes nothing."""
    if days not in reads.EXPIRING_WINDOWS:
        raise LearnerError("Choose a window of 7, 30, 60 or 90 days.", code=LearnerErrorCode.INVALID_WINDOW)
    now = now or timezone.now()
    with customer, transaction.atomic(durable=True):
        lock_pool(customer)
        learners = reads.expiring_learners(search if select_all else "", days, now)
        if select_all:
            at_most = Learner.objects.filter(status=LearnerStatus.ACTIVE).count()
        else:
            ids = sorted({int(i) for i in learner_ids or ()})
            learners, at_most = learners.filter(pk__in=ids), len(ids)
        latest = reads.renew_early_bound(customer, now, days, lambda: reads.latest_expiry(learners))
        if order_id is not None:
            picked = LicenceOrder.objects.filter(customer=customer, pk=order_id).valid(now).first()
            if picked is None or picked.expires_at <= latest:
                raise LearnerError(
                    "Choose an order that expires after the selected learners' licences; nothing was renewed.",
                    code=LearnerErrorCode.ORDER_NOT_LATER,
                )
        candidates = Candidates.learners(learners, position="email", at_most=at_most)
        outcome = give_seats(
            customer,
            candidates,
            acting_user=acting_user,
            now=now,
            order_id=order_id,
            expiring_after=latest,
        )
        events.licences_renewed_early(
            customer,
            actor=acting_user,
            in_manage_mode=in_manage_mode,
            selection="select_all" if select_all else "one_by_one",
            search=search if select_all else "",
            days=days,
            selected=outcome.eligible if select_all else len(ids),
            outcome=outcome,
        )
        if outcome.allocated:
            selection = "select_all" if select_all else "one_by_one"
            signals.learners_renewed.send(
                Allocation,
                customer=customer,
                outcome=outcome,
                selection=selection,
                acting_user=acting_user,
                early=True,
            )
    return outcome


def give_new_learners_seats(customer, learner_ids, *, acting_user, now, position="id") -> AllocationOutcome:
    """New learners get a free seat automatically (expired ones never do: they hold a
    current, expired allocation). The caller holds the pool lock."""
    candidates = Candidates.learners(reads.never_licensed(learner_ids), position=position, at_most=len(learner_ids))
    return give_seats(customer, candidates, acting_user=acting_user, now=now)
