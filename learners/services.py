# Raw SQL here interpolates only table names taken from the models; every value is a
# query parameter.
# ruff: noqa: S608
"""Learners and their seats: the only code that changes learners and allocations.

Views, tasks, commands and tests call these functions. Each takes the acting user,
runs in one transaction inside the customer's schema, and writes the audit log.

Seats (design decisions, see also learners/models.py):

- An allocation is *current* until it ends; it is *valid* while current and
  ``expires_at > now``. A learner is *expired* when active and their current
  allocation has expired (so they hold no valid one).
- Every change to a customer's seats first takes that customer's pool lock (a
  transaction-level PostgreSQL advisory lock), so allocations, renewals and
  deactivations of one customer happen one after another whatever the number of web
  workers. The order's ``allocated_count`` is then raised with a conditional
  ``UPDATE`` (``allocated_count + n <= quantity``) in the same transaction, and the
  check constraint on the order backs that up: seats never exceed the quantity.
- Seats come from the valid order that expires last, unless the manager picks one.
  When that order has too few free seats, the rest come from the next-latest
  valid order, and so on: a manager asking for 40 renewals with 30 free seats in the
  newest order and 10 in an older one gets 40. The seat still expires with the
  order it came from.
- Who gets a seat when seats run out: the learners in the order the manager sees
  them (the Expired Licences list is sorted by email; a CSV keeps its row order).
- Bulk work is set-based: a fixed number of SQL statements whatever the number of
  learners (the picks go into a temporary table; one statement writes the history
  rows, one renews the current rows in place, one inserts first seats, one updates
  the orders' counts). CSV rows are streamed into a temporary table with ``COPY``.
"""

import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, F, FilteredRelation, Q, Value, When
from django.utils import timezone

from accounts import audit
from accounts.models import AuditEvent, normalise_email
from learners import csv_files
from learners.models import Allocation, CsvUpload, Learner, LearnerStatus
from licences.models import LicenceOrder

# A customer's pool lock key: this constant plus the customer's id.
SEAT_POOL_LOCK_BASE = 0x5EA7 << 40
UPLOAD_KEPT_FOR = timedelta(days=1)
# Files with more rows than this are imported by a Celery worker, with a progress bar.
BACKGROUND_MIN_ROWS = settings.CSV_BACKGROUND_MIN_ROWS
COPY_CHUNK_ROWS = 20_000
SAMPLE_ROWS = 100

LEARNER = Learner._meta.db_table
ALLOCATION = Allocation._meta.db_table
ORDER = LicenceOrder._meta.db_table

# Why a CSV row is not renewed, in the words the preview and the report use.
NOT_RENEWED_REASONS = {
    "unknown_email": "Unknown email: no learner has this email address",
    "invalid_email": "Invalid email address",
    "already_valid": "Already holds a valid licence",
    "deactivated": "Learner is deactivated",
    "duplicate": "Duplicate in the file (an earlier row has this email)",
    "not_enough_licences": "Not enough free licences",
}
# Why a CSV row of new learners is not added.
NOT_ADDED_REASONS = {
    "invalid_email": "Invalid email address",
    "duplicate": "Duplicate in the file (an earlier row has this email)",
    "already_learner": "Already a learner",
}


class LearnerError(Exception):
    """A request that cannot be carried out; ``str(error)`` says why."""


class StalePreview(LearnerError):
    """The seats or learners changed since the manager's preview; nothing was renewed."""

    def __init__(self, counts):
        self.counts = counts
        super().__init__(
            "Licences or learners have changed since your preview, so nothing was renewed. "
            "Check the new figures below and click Renew Licences again."
        )


# --- Reading -------------------------------------------------------------------------


def current_allocation():
    return FilteredRelation("allocations", condition=Q(allocations__ended_at__isnull=True))


def matching(search: str) -> Q:
    """Learners whose email or name contains ``search``, whatever its case: the email
    is stored lower-cased and the name has a lower-cased copy (``name_folded``), so
    both are compared as stored. Django's icontains would put UPPER() on every row
    (two thirds of a search's time over 100,000 learners) and leave the planner
    without statistics to estimate how many learners match."""
    folded = search.lower()
    return Q(email__contains=folded) | Q(name_folded__contains=folded)


def learners_with_licence(search: str = "", licence: str = "", now=None):
    """Every learner with their current seat's expiry, for the Learners section."""
    now = now or timezone.now()
    learners = Learner.objects.annotate(current=current_allocation()).annotate(
        licence_expires_at=F("current__expires_at"),
        licence_state=Case(
            When(status=LearnerStatus.DEACTIVATED, then=Value("deactivated")),
            When(current__expires_at__gt=now, then=Value("valid")),
            When(current__expires_at__lte=now, then=Value("expired")),
            default=Value("none"),
        ),
    )
    if search:
        learners = learners.filter(matching(search))
    if licence == "valid":
        learners = learners.filter(current__expires_at__gt=now)
    elif licence == "expired":
        learners = learners.filter(current__expires_at__lte=now, status=LearnerStatus.ACTIVE)
    elif licence == "none":
        learners = learners.filter(current__isnull=True, status=LearnerStatus.ACTIVE)
    elif licence == "deactivated":
        learners = learners.filter(status=LearnerStatus.DEACTIVATED)
    return learners.order_by("email", "pk")


def expired_learners(search: str = "", now=None):
    """The Expired Licences list: active learners whose current seat has expired,
    with that expiry as ``last_expiry``, sorted by email. Select All renews exactly
    this queryset, so the list and the renewal can never disagree."""
    now = now or timezone.now()
    learners = (
        Learner.objects.filter(status=LearnerStatus.ACTIVE)
        .annotate(current=current_allocation())
        .filter(current__expires_at__lte=now)
        .annotate(last_expiry=F("current__expires_at"), current_allocation_id=F("current__id"))
    )
    if search:
        learners = learners.filter(matching(search))
    return learners.order_by("email", "pk")


def holds_valid_licence(email: str, now=None) -> bool:
    """Rule 4, derived from time: an active learner with a current seat that has not
    expired. Called in the customer's schema."""
    return Allocation.objects.filter(
        learner__email=normalise_email(email),
        learner__status=LearnerStatus.ACTIVE,
        ended_at__isnull=True,
        expires_at__gt=now or timezone.now(),
    ).exists()


def seat_sources(customer, now=None, order_id=None) -> list[LicenceOrder]:
    """The valid orders with free seats, in the order seats are taken from them:
    the one that expires last first."""
    orders = LicenceOrder.objects.filter(customer=customer).valid(now).filter(allocated_count__lt=F("quantity"))
    if order_id is not None:
        orders = orders.filter(pk=order_id)
    return list(orders.order_by("-expires_at", "-pk"))


def ensure_learner_for_user(user) -> Learner:
    """The Learner row (in the user's customer's schema) that a learner account signs in as."""
    with user.customer:
        learner, _ = Learner.objects.get_or_create(email=normalise_email(user.email), defaults={"name": user.full_name})
    return learner


# --- The seat engine -----------------------------------------------------------------


@dataclass
class AllocationOutcome:
    allocated: int = 0
    eligible: int = 0
    by_order: dict[int, int] = field(default_factory=dict)
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def not_allocated(self) -> int:
        """Eligible learners left without a seat because the seats ran out."""
        return self.eligible - self.allocated


def _lock_pool(customer) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAT_POOL_LOCK_BASE + customer.pk])
    _sort_in_memory()


def _sort_in_memory() -> None:
    """Bulk work sorts and hashes up to 200,000 rows: keep that in memory rather
    than spill to disk, for this transaction only."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")


def _allocate(
    customer,
    candidates_sql: str,
    candidates_params: list,
    *,
    acting_user,
    now,
    order_id=None,
    at_most: int | None = None,
) -> AllocationOutcome:
    """Give a seat to each candidate, in their ``position`` order, while seats last.

    ``candidates_sql`` selects ``(learner_id, allocation_id, position, reason)``:
    learners who may get a seat (active, holding no valid one) have a NULL
    ``reason``; ``allocation_id`` is their current, expired allocation, or NULL.
    Rows with a reason (a CSV row that cannot be renewed) are only counted, in
    ``outcome.extra``. The caller holds the pool lock, inside a transaction.

    A fixed number of statements whatever the number of learners: the picks
    (candidate, seat source) go into a temporary table, whose real size the planner
    sees; a renewal then copies each expired allocation into an ended history row
    and renews the current row in place, and learners without one get a new row.
    Renewing in place writes no index entry (see Allocation), which makes a
    100,000-learner renewal about twice as fast as ending each row and inserting a
    new one.

    ``at_most`` bounds the number of candidates when the caller knows it (rows of a
    file, ticked learners): when one order has seats for them all, nobody needs
    ranking."""
    sources = seat_sources(customer, now, order_id)
    order_ids, expiries, after, upto, taken = [], [], [], [], 0
    for order in sources:
        order_ids.append(order.pk)
        expiries.append(order.expires_at)
        after.append(taken)
        taken += order.free_seats
        upto.append(taken)
    user_id = acting_user.pk if acting_user else None
    if len(sources) == 1 and at_most is not None and taken >= at_most:
        rank = "1"
    else:
        rank = "row_number() OVER (PARTITION BY reason IS NULL ORDER BY position, learner_id)"
    outcome = AllocationOutcome()
    renewals = fresh = 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE seat_picks AS
            WITH candidates (learner_id, allocation_id, position, reason) AS ({candidates_sql}),
            ranked AS (SELECT learner_id, allocation_id, reason, {rank} AS rank FROM candidates)
            SELECT r.learner_id, r.allocation_id, r.reason, s.order_id, s.expires_at
            FROM ranked r
            LEFT JOIN unnest(%s::bigint[], %s::timestamptz[], %s::bigint[], %s::bigint[])
                AS s (order_id, expires_at, after_rank, upto_rank)
              ON r.reason IS NULL AND r.rank > s.after_rank AND r.rank <= s.upto_rank
            """,
            [*candidates_params, order_ids, expiries, after, upto],
        )
        cursor.execute(
            "SELECT reason, order_id, allocation_id IS NULL, count(*) FROM pg_temp.seat_picks GROUP BY 1, 2, 3"
        )
        for reason, picked_order, is_new, count in cursor.fetchall():
            if reason is not None:
                outcome.extra[reason] = outcome.extra.get(reason, 0) + count
                continue
            outcome.eligible += count
            if picked_order is not None:
                outcome.by_order[picked_order] = outcome.by_order.get(picked_order, 0) + count
                if is_new:
                    fresh += count
                else:
                    renewals += count
        outcome.allocated = sum(outcome.by_order.values())
        written = 0
        if renewals:
            cursor.execute(
                f"""
                INSERT INTO {ALLOCATION} (learner_id, order_id, expires_at, allocated_at, allocated_by_id, ended_at, end_reason)
                SELECT a.learner_id, a.order_id, a.expires_at, a.allocated_at, a.allocated_by_id, %s, %s
                FROM {ALLOCATION} a JOIN pg_temp.seat_picks p ON a.id = p.allocation_id
                WHERE p.order_id IS NOT NULL AND a.ended_at IS NULL
                """,
                [now, Allocation.EndReason.RENEWED],
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
                raise LearnerError("The free licences changed while allocating. Nothing was changed; try again.")
    return outcome


def _audit(action, customer, acting_user, in_manage_mode, **details):
    audit.record(action, actor=acting_user, customer=customer, in_manage_mode=in_manage_mode, **details)


def _order_counts(outcome: AllocationOutcome) -> dict[str, int]:
    return {str(order_id): n for order_id, n in sorted(outcome.by_order.items())}


# --- Allocating and renewing ---------------------------------------------------------


def allocate(customer, learner_ids, *, acting_user, in_manage_mode=False, order_id=None, now=None):
    """Give a seat to each of these learners who holds no valid one (never licensed,
    or expired), while seats last."""
    now = now or timezone.now()
    ids = sorted({int(i) for i in learner_ids})
    with customer, transaction.atomic():
        _lock_pool(customer)
        outcome = _allocate(
            customer,
            f"""SELECT l.id, a.id, l.email, NULL FROM {LEARNER} l
                LEFT JOIN {ALLOCATION} a ON a.learner_id = l.id AND a.ended_at IS NULL
                WHERE l.id = ANY(%s::bigint[]) AND l.status = 'active' AND (a.id IS NULL OR a.expires_at <= %s)""",
            [ids, now],
            acting_user=acting_user,
            now=now,
            order_id=order_id,
            at_most=len(ids),
        )
        _audit(
            AuditEvent.Action.LICENCES_ALLOCATED,
            customer,
            acting_user,
            in_manage_mode,
            requested=len(ids),
            allocated=outcome.allocated,
            not_allocated=outcome.not_allocated,
            orders=_order_counts(outcome),
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
    """Renew expired learners: those ticked one by one (``learner_ids``), or with
    ``select_all`` every learner the Expired Licences list shows for ``search``,
    across all pages. Learners no longer expired are skipped. Seats go in the list's
    order until they run out."""
    now = now or timezone.now()
    with customer, transaction.atomic():
        _lock_pool(customer)
        learners = expired_learners(search if select_all else "", now)
        if not select_all:
            ids = sorted({int(i) for i in learner_ids or ()})
            learners = learners.filter(pk__in=ids)
        # Ranked by email and id below, so the subquery needs no ORDER BY of its own.
        candidates = (
            learners.order_by()
            .annotate(reason=Value(None, output_field=CharField()))
            .values_list("id", "current_allocation_id", "email", "reason")
        )
        sql, params = candidates.query.sql_with_params()
        # Every active learner is a cheap bound on how many Select All may renew.
        at_most = Learner.objects.filter(status=LearnerStatus.ACTIVE).count() if select_all else len(ids)
        outcome = _allocate(
            customer, sql, list(params), acting_user=acting_user, now=now, order_id=order_id, at_most=at_most
        )
        _audit(
            AuditEvent.Action.LICENCES_RENEWED,
            customer,
            acting_user,
            in_manage_mode,
            selection="select_all" if select_all else "one_by_one",
            search=search if select_all else "",
            selected=outcome.eligible if select_all else len(ids),
            renewed=outcome.allocated,
            not_renewed=outcome.not_allocated,
            orders=_order_counts(outcome),
        )
    return outcome


# --- Learners ------------------------------------------------------------------------


@dataclass
class AddOutcome:
    added: int = 0
    allocated: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def waiting(self) -> int:
        """New learners left without a seat because none was free."""
        return self.added - self.allocated


def add_learner(customer, email: str, name: str = "", *, acting_user, in_manage_mode=False, now=None) -> Learner:
    """One new learner, who gets a free seat automatically if there is one."""
    now = now or timezone.now()
    email = normalise_email(email)
    if not csv_files.looks_like_email(email):
        raise LearnerError("Enter a valid email address.")
    with customer, transaction.atomic():
        _lock_pool(customer)
        if Learner.objects.filter(email=email).exists():
            raise LearnerError(f"{email} is already a learner.")
        learner = Learner.objects.create(email=email, name=(name or "").strip()[:150], created_at=now)
        outcome = _auto_allocate(customer, [learner.pk], acting_user=acting_user, now=now)
        _audit(
            AuditEvent.Action.LEARNERS_ADDED,
            customer,
            acting_user,
            in_manage_mode,
            source="form",
            added=1,
            allocated=outcome.allocated,
            learner_id=learner.pk,
            email=email,
        )
    learner.got_licence = outcome.allocated == 1
    return learner


def _auto_allocate(customer, learner_ids, *, acting_user, now) -> AllocationOutcome:
    """New learners get a free seat automatically (expired ones never do: they hold a
    current, expired allocation, found through the one-current-allocation index)."""
    return _allocate(
        customer,
        f"""SELECT l.id, NULL::bigint, l.id, NULL FROM {LEARNER} l
            WHERE l.id = ANY(%s::bigint[]) AND l.status = 'active'
              AND NOT EXISTS (SELECT 1 FROM {ALLOCATION} a WHERE a.learner_id = l.id AND a.ended_at IS NULL)""",
        [list(learner_ids)],
        acting_user=acting_user,
        now=now,
        at_most=len(learner_ids),
    )


def deactivate_learner(customer, learner_id: int, *, acting_user, in_manage_mode=False, now=None) -> Learner:
    """Deactivate a learner: they lose access, their seat goes back to the order for
    the rest of its validity, and their history stays.

    Raises Learner.DoesNotExist for an id not in this customer's schema."""
    now = now or timezone.now()
    with customer, transaction.atomic():
        _lock_pool(customer)
        learner = Learner.objects.select_for_update().get(pk=learner_id)
        if learner.status == LearnerStatus.DEACTIVATED:
            raise LearnerError(f"{learner.email} is already deactivated.")
        freed_order_id = None
        current = Allocation.objects.filter(learner=learner, ended_at__isnull=True).first()
        if current is not None:
            current.ended_at, current.end_reason = now, Allocation.EndReason.DEACTIVATED
            current.save(update_fields=["ended_at", "end_reason"])
            if current.expires_at > now:
                # The seat is free again until its order expires.
                freed = LicenceOrder.objects.filter(
                    pk=current.order_id, customer=customer, allocated_count__gt=0, expires_at__gt=now
                ).update(allocated_count=F("allocated_count") - 1)
                freed_order_id = current.order_id if freed else None
        learner.status, learner.deactivated_at = LearnerStatus.DEACTIVATED, now
        learner.save(update_fields=["status", "deactivated_at"])
        _audit(
            AuditEvent.Action.LEARNER_DEACTIVATED,
            customer,
            acting_user,
            in_manage_mode,
            learner_id=learner.pk,
            email=learner.email,
            freed_seat_of_order=freed_order_id,
        )
    learner.freed_seat = freed_order_id is not None
    return learner


# --- CSV uploads ---------------------------------------------------------------------


def store_upload(customer, uploaded_file, purpose, *, acting_user) -> CsvUpload:
    """Check an uploaded CSV and keep it for the next steps. Raises
    csv_files.CsvError, changing nothing, when the file cannot be used."""
    max_bytes = settings.CSV_UPLOAD_MAX_BYTES
    if uploaded_file.size > max_bytes:
        raise csv_files.CsvError(
            f"The file is {uploaded_file.size / 1_048_576:.1f} MB; files can be at most "
            f"{max_bytes / 1_048_576:.0f} MB. Split it and upload the parts one at a time."
        )
    data = b"".join(uploaded_file.chunks())
    shape = csv_files.inspect(data)
    with customer, transaction.atomic():
        CsvUpload.objects.filter(uploaded_at__lt=timezone.now() - UPLOAD_KEPT_FOR).delete()
        return CsvUpload.objects.create(
            token=secrets.token_urlsafe(32),
            purpose=purpose,
            uploaded_by=acting_user,
            filename=(getattr(uploaded_file, "name", "") or "")[:255],
            content=data,
            encoding=shape.encoding,
            delimiter=shape.delimiter,
            columns=shape.columns,
            row_count=shape.row_count,
        )


def upload_for(token: str, user, purpose) -> CsvUpload:
    """The upload behind ``token``, only for the manager who uploaded it (in the
    current customer's schema). Raises CsvUpload.DoesNotExist otherwise."""
    return CsvUpload.objects.get(token=token, uploaded_by_id=user.pk, purpose=purpose)


def _check_column(upload: CsvUpload, column) -> int:
    if isinstance(column, bool) or not isinstance(column, int) or not 0 <= column < len(upload.columns):
        raise LearnerError("Choose one of the file's columns.")
    return column


def _load_csv_rows(upload: CsvUpload, email_column: int, name_column: int | None = None, progress=None) -> None:
    """Stream the chosen column(s) of the file into ``pg_temp.csv_rows`` with COPY:
    (row number, email trimmed and lower-cased, whether it is a valid address,
    whether it is the email's first row in the file, name). With ``progress``, rows go
    in chunks and ``progress(rows_done)`` is called after each, for the progress bar
    of a background import."""
    data = bytes(upload.content)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.csv_rows")
        cursor.execute(
            "CREATE TEMPORARY TABLE csv_rows "
            "(row_number integer NOT NULL, email text NOT NULL, email_ok boolean NOT NULL, "
            "first_in_file boolean NOT NULL, name text NOT NULL, learner_id bigint)"
        )
        rows = csv_files.iter_rows(data, upload.encoding, upload.delimiter)
        looks_like_email = csv_files.looks_like_email
        seen = set()  # emails met in earlier rows: a repeat is a duplicate in the file
        done = 0
        while True:
            written = 0
            copy_sql = "COPY pg_temp.csv_rows (row_number, email, email_ok, first_in_file, name) FROM STDIN"
            with cursor.copy(copy_sql) as copy:
                for number, cells in rows:
                    email = cells[email_column].strip().lower() if email_column < len(cells) else ""
                    name = cells[name_column].strip() if name_column is not None and name_column < len(cells) else ""
                    first = email not in seen
                    seen.add(email)
                    copy.write_row((number, email, looks_like_email(email), first, name))
                    written += 1
                    if progress is not None and written >= COPY_CHUNK_ROWS:
                        break
            done += written
            if progress is None or written < COPY_CHUNK_ROWS:
                break
            progress(done)
        if progress is not None:
            progress(done)


def _drop_csv_rows() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.csv_rows")


@contextmanager
def _csv_rows_to_read(customer, upload: CsvUpload, column: int):
    """In the customer's schema and one transaction, ``pg_temp.csv_rows`` loaded from
    the file, for a look that changes nothing."""
    with customer, transaction.atomic():
        _sort_in_memory()
        _load_csv_rows(upload, column)
        yield
        _drop_csv_rows()


@contextmanager
def _csv_rows_with_pool_locked(customer, upload: CsvUpload, email_column: int, name_column=None, *, progress=None):
    """In the customer's schema, ``pg_temp.csv_rows`` loaded from the file and the
    pool lock held, in one transaction: all or nothing of what the body does. The
    rows are dropped afterwards, whatever happened.

    With ``progress`` (a worker reporting it) the rows are streamed in before the
    transaction; the temporary table lives as long as the connection."""
    with customer:
        if progress is not None:
            _load_csv_rows(upload, email_column, name_column, progress=progress)
        try:
            with transaction.atomic():
                if progress is None:
                    _load_csv_rows(upload, email_column, name_column)
                _lock_pool(customer)
                yield
        finally:
            _drop_csv_rows()


# Each CSV row's fate for a renewal: a reason it cannot be renewed, or NULL when the
# learner may get a seat (they hold none, or an expired one).
CLASSIFIED_FOR_RENEWAL = f"""
    classified AS (
        SELECT r.row_number, r.email, l.id AS learner_id, a.id AS allocation_id,
            CASE
                WHEN NOT r.email_ok THEN 'invalid_email'
                WHEN NOT r.first_in_file THEN 'duplicate'
                WHEN l.id IS NULL THEN 'unknown_email'
                WHEN l.status <> 'active' THEN 'deactivated'
                WHEN a.expires_at > %s THEN 'already_valid'
            END AS reason
        FROM pg_temp.csv_rows r
        LEFT JOIN {LEARNER} l ON l.email = r.email AND r.email_ok
        LEFT JOIN {ALLOCATION} a ON a.learner_id = l.id AND a.ended_at IS NULL
    )
"""

# Each CSV row's outcome for a renewal: ``renew`` for the rows that may get a seat,
# in the file's order while the free seats last, otherwise the reason code.
# Parameters: now, the number of free seats.
RENEWAL_OUTCOME = f"""
    {CLASSIFIED_FOR_RENEWAL},
    outcome AS (
        SELECT row_number, email, coalesce(reason,
            CASE WHEN row_number() OVER (PARTITION BY reason IS NULL ORDER BY row_number) <= %s
                 THEN 'renew' ELSE 'not_enough_licences' END) AS outcome
        FROM classified
    )
"""


@dataclass
class CsvPreview:
    column: int
    column_name: str
    row_count: int
    counts: dict[str, int]
    sample: list[tuple[int, str, str]]  # (row number, email, reason code), first not-renewed rows
    free_seats: int

    @classmethod
    def of(cls, upload: CsvUpload, column: int, counts, sample=None, free_seats=0) -> "CsvPreview":
        return cls(
            column=column,
            column_name=upload.columns[column],
            row_count=upload.row_count,
            counts=counts,
            sample=sample or [],
            free_seats=free_seats,
        )

    @property
    def to_renew(self) -> int:
        return self.counts.get("renew", 0)

    @property
    def not_renewed(self) -> int:
        return sum(n for reason, n in self.counts.items() if reason != "renew")

    @property
    def reasons(self) -> list[tuple[str, str, int]]:
        return [
            (code, label, self.counts[code]) for code, label in NOT_RENEWED_REASONS.items() if self.counts.get(code)
        ]

    @property
    def sample_with_reasons(self) -> list[tuple[int, str, str]]:
        return [(number, email, NOT_RENEWED_REASONS[code]) for number, email, code in self.sample]

    @property
    def expected(self) -> str:
        """The preview's figures, sent back with Renew Licences to detect a stale preview."""
        return ",".join(f"{code}:{n}" for code, n in sorted(self.counts.items()))


def parse_expected(value: str) -> dict[str, int] | None:
    try:
        return {code: int(n) for code, n in (part.split(":") for part in value.split(",") if part)}
    except ValueError:
        return None


def _free_seats(customer, now, order_id=None) -> int:
    return sum(order.free_seats for order in seat_sources(customer, now, order_id))


def _classify(customer, now, order_id=None, sample=SAMPLE_ROWS) -> tuple[dict, list, int]:
    """Counts of each row's outcome (``renew`` or a reason) and the first
    not-renewed rows, from ``pg_temp.csv_rows``, in one statement."""
    capacity = _free_seats(customer, now, order_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH {RENEWAL_OUTCOME}
            SELECT outcome, count(*), NULL::integer, NULL::text FROM outcome GROUP BY outcome
            UNION ALL
            (SELECT outcome, 0, row_number, email FROM outcome WHERE outcome <> 'renew'
             ORDER BY row_number LIMIT %s)
            """,
            [now, capacity, sample],
        )
        counts, rows = {}, []
        for outcome, count, row_number, email in cursor.fetchall():
            if row_number is None:
                counts[outcome] = count
            else:
                rows.append((row_number, email, outcome))
    return counts, rows, capacity


def preview_csv_renewal(customer, upload: CsvUpload, column, *, order_id=None, now=None) -> CsvPreview:
    """What Renew Licences would do now: how many rows would be renewed and why each
    other row would not. Changes nothing."""
    now = now or timezone.now()
    column = _check_column(upload, column)
    with _csv_rows_to_read(customer, upload, column):
        counts, sample, capacity = _classify(customer, now, order_id)
    return CsvPreview.of(upload, column, counts, sample, free_seats=capacity)


def csv_renewal_report(customer, upload: CsvUpload, column, *, order_id=None, now=None) -> str:
    """The not-renewed rows as CSV: the file's own columns plus the reason, every
    cell escaped against spreadsheet formulas."""
    import csv
    import io

    from common.spreadsheet import safe_row

    now = now or timezone.now()
    column = _check_column(upload, column)
    with _csv_rows_to_read(customer, upload, column), connection.cursor() as cursor:
        cursor.execute(
            f"WITH {RENEWAL_OUTCOME} SELECT row_number, outcome FROM outcome WHERE outcome <> 'renew'",
            [now, _free_seats(customer, now, order_id)],
        )
        reasons = dict(cursor.fetchall())
    out = io.StringIO()
    writer = csv.writer(out)
    width = len(upload.columns)
    writer.writerow(safe_row(["Row", *upload.columns, "Reason not renewed"]))
    for number, cells in csv_files.iter_rows(bytes(upload.content), upload.encoding, upload.delimiter):
        reason = reasons.get(number)
        if reason:
            cells = (cells + [""] * width)[:width]
            writer.writerow(safe_row([number, *cells, NOT_RENEWED_REASONS[reason]]))
    return out.getvalue()


def renew_from_csv(
    customer,
    upload: CsvUpload,
    column,
    *,
    acting_user,
    in_manage_mode=False,
    expected: dict[str, int] | None = None,
    order_id=None,
    progress=None,
    now=None,
) -> CsvPreview:
    """Renew the learners of a CSV: recomputed now, whatever the preview said, and
    all or nothing. With ``expected`` (the preview's figures), a renewal whose figures
    differ raises StalePreview and changes nothing."""
    now = now or timezone.now()
    column = _check_column(upload, column)
    with _csv_rows_with_pool_locked(customer, upload, column, progress=progress):
        outcome = _allocate(
            customer,
            f"WITH {CLASSIFIED_FOR_RENEWAL} SELECT learner_id, allocation_id, row_number, reason FROM classified",
            [now],
            acting_user=acting_user,
            now=now,
            order_id=order_id,
            at_most=upload.row_count,
        )
        counts = dict(outcome.extra)
        if outcome.allocated:
            counts["renew"] = outcome.allocated
        if outcome.not_allocated:
            counts["not_enough_licences"] = outcome.not_allocated
        if expected is not None and counts != expected:
            raise StalePreview(counts)
        _audit(
            AuditEvent.Action.LICENCES_RENEWED,
            customer,
            acting_user,
            in_manage_mode,
            selection="csv",
            file=upload.filename,
            rows=upload.row_count,
            renewed=outcome.allocated,
            not_renewed=sum(n for code, n in counts.items() if code != "renew"),
            reasons={code: n for code, n in counts.items() if code != "renew"},
            orders=_order_counts(outcome),
        )
    return CsvPreview.of(upload, column, counts)


def import_learners_from_csv(
    customer,
    upload: CsvUpload,
    email_column,
    name_column=None,
    *,
    acting_user,
    in_manage_mode=False,
    progress=None,
    now=None,
) -> AddOutcome:
    """Add the file's new learners (email required, name optional) in one go; each
    gets a free seat automatically while seats last. Rows with an invalid email,
    repeats in the file and existing learners are skipped and counted."""
    now = now or timezone.now()
    email_column = _check_column(upload, email_column)
    if name_column is not None:
        name_column = _check_column(upload, name_column)
    with _csv_rows_with_pool_locked(customer, upload, email_column, name_column, progress=progress):
        outcome = AddOutcome()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH classified AS (
                    SELECT r.row_number, r.email, r.name,
                        CASE
                            WHEN NOT r.email_ok THEN 'invalid_email'
                            WHEN NOT r.first_in_file THEN 'duplicate'
                            WHEN l.id IS NOT NULL THEN 'already_learner'
                        END AS reason
                    FROM pg_temp.csv_rows r
                    LEFT JOIN {LEARNER} l ON l.email = r.email
                ),
                inserted AS (
                    INSERT INTO {LEARNER} (email, name, status, created_at)
                    SELECT email, left(name, 150), 'active', %s FROM classified
                    WHERE reason IS NULL ORDER BY row_number
                    ON CONFLICT (email) DO NOTHING
                    RETURNING id, email
                ),
                marked AS (
                    UPDATE pg_temp.csv_rows r SET learner_id = i.id FROM inserted i
                    WHERE r.email = i.email RETURNING r.learner_id
                )
                SELECT reason, count(*) FROM classified WHERE reason IS NOT NULL GROUP BY reason
                UNION ALL SELECT 'added', count(DISTINCT learner_id) FROM marked
                UNION ALL SELECT 'new', count(*) FROM classified WHERE reason IS NULL
                """,
                [now],
            )
            counts = dict(cursor.fetchall())
        outcome.added = counts.pop("added")
        new = counts.pop("new")
        if new > outcome.added:  # added meanwhile by someone else
            counts["already_learner"] = counts.get("already_learner", 0) + new - outcome.added
        outcome.skipped = counts
        seats = _allocate(
            customer,
            """SELECT learner_id, NULL::bigint, min(row_number), NULL FROM pg_temp.csv_rows
                WHERE learner_id IS NOT NULL GROUP BY learner_id""",
            [],
            acting_user=acting_user,
            now=now,
            at_most=upload.row_count,
        )
        outcome.allocated = seats.allocated
        _audit(
            AuditEvent.Action.LEARNERS_ADDED,
            customer,
            acting_user,
            in_manage_mode,
            source="csv",
            file=upload.filename,
            rows=upload.row_count,
            added=outcome.added,
            allocated=outcome.allocated,
            skipped=outcome.skipped,
        )
    return outcome


# --- Background imports --------------------------------------------------------------


# An upload can be reviewed and confirmed until its import has been handed over.
REVIEWABLE_STATES = (CsvUpload.State.UPLOADED, CsvUpload.State.STALE, CsvUpload.State.FAILED)


def runs_in_background(upload: CsvUpload) -> bool:
    return upload.row_count > BACKGROUND_MIN_ROWS


def queue_import(customer, upload: CsvUpload, options: dict, *, acting_user, in_manage_mode=False) -> CsvUpload:
    """Hand a big import to a Celery worker once this transaction commits; the page
    polls the upload's progress."""
    from learners.tasks import run_csv_import

    with customer, transaction.atomic():
        claimed = CsvUpload.objects.filter(pk=upload.pk, state__in=REVIEWABLE_STATES).update(
            state=CsvUpload.State.QUEUED,
            options={**options, "in_manage_mode": in_manage_mode},
            progress_done=0,
            progress_total=upload.row_count,
        )
        if not claimed:
            raise LearnerError("This file is already being imported.")
        run_csv_import.delay_on_commit(upload.pk, customer.schema_name, acting_user.pk)
    upload.refresh_from_db()
    return upload
