# Raw SQL here interpolates only table names taken from the models; every value is a
# query parameter.
# ruff: noqa: S608
"""CSV imports: the whole life of a ``CsvUpload``, for Import Allocation (renew the
expired learners a file names) and Import Learners (add the file's new learners).

1. **Upload**: ``store_upload`` checks the file (learners.csv_files refuses what
   cannot be used, before anything changes) and keeps it in the customer's schema.
2. **Review**: ``preview_import_allocation`` says who would be renewed and why each
   other row would not; ``import_allocation_report`` gives those rows as a CSV.
3. **Confirm**: ``import_allocation`` / ``import_learners``, recomputed at that
   moment, all or nothing. A file of more than ``CSV_BACKGROUND_MIN_ROWS`` rows is
   queued instead (``mark_queued``, then learners.tasks hands it to a Celery worker,
   which calls ``run_queued_import``) and the page polls its progress.

The file's rows are streamed into a temporary table with ``COPY`` and classified in
SQL; the seats come from the seat engine (learners.seats)."""

import csv
import io
import re
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from common.spreadsheet import safe_row
from common.uploads import too_large
from learners import csv_files, events, reads, seats, signals
from learners.error_codes import CsvErrorCode, LearnerError, LearnerErrorCode, StalePreview
from learners.models import Allocation, CsvUpload, Learner
from learners.seats import Candidates

UPLOAD_KEPT_FOR = timedelta(days=1)
COPY_CHUNK_ROWS = 20_000
SAMPLE_ROWS = 100
# A run that has not finished in this time died with its worker: it may be claimed again.
RUN_CLAIM_TIMEOUT = timedelta(minutes=15)
# Reading the file is most of a background import's work; the set-based SQL is the rest.
READING_SHARE = 0.8

LEARNER = Learner._meta.db_table
ALLOCATION = Allocation._meta.db_table

# Why a row of Import Allocation is not renewed, in the words the review and the report use.
NOT_RENEWED_REASONS = {
    "unknown_email": "Unknown email: no learner has this email address",
    "invalid_email": "Invalid email address",
    "already_valid": "Already holds a valid licence",
    "deactivated": "Learner is deactivated",
    "duplicate": "Duplicate in the file (an earlier row has this email)",
    "not_enough_licences": "Not enough free licences",
}
# Why a row of Import Learners is not added.
NOT_ADDED_REASONS = {
    "invalid_email": "Invalid email address",
    "duplicate": "Duplicate in the file (an earlier row has this email)",
    "already_learner": "Already a learner",
}
# An upload can be reviewed and confirmed until its import has been handed over.
REVIEWABLE_STATES = (CsvUpload.State.UPLOADED, CsvUpload.State.STALE, CsvUpload.State.FAILED)


# --- 1. Upload -------------------------------------------------------------------------


def store_upload(customer, uploaded_file, purpose, *, acting_user) -> CsvUpload:
    """Check an uploaded CSV and keep it for the next steps. Raises
    csv_files.CsvError, changing nothing, when the file cannot be used."""
    refusal = too_large(uploaded_file.size)
    if refusal:
        raise csv_files.CsvError(refusal, code=CsvErrorCode.FILE_TOO_LARGE)
    data = b"".join(uploaded_file.chunks())
    shape = csv_files.inspect(data)
    with customer, transaction.atomic(durable=True):
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


def upload_for(token: str, user, purpose=None) -> CsvUpload:
    """The upload behind ``token``, only for the manager who uploaded it (in the
    current customer's schema), of ``purpose`` when given. Raises
    CsvUpload.DoesNotExist otherwise."""
    uploads = CsvUpload.objects.filter(token=token, uploaded_by_id=user.pk)
    if purpose is not None:
        uploads = uploads.filter(purpose=purpose)
    return uploads.get()


def runs_in_background(upload: CsvUpload) -> bool:
    return upload.row_count > settings.CSV_BACKGROUND_MIN_ROWS


def _check_column(upload: CsvUpload, column) -> int:
    if isinstance(column, bool) or not isinstance(column, int) or not 0 <= column < len(upload.columns):
        raise LearnerError("Choose one of the file's columns.", code=LearnerErrorCode.INVALID_COLUMN)
    return column


# --- The file's rows in SQL --------------------------------------------------------------


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
    with customer, transaction.atomic(durable=True):
        seats.sort_in_memory()
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
            with transaction.atomic(durable=True):
                if progress is None:
                    _load_csv_rows(upload, email_column, name_column)
                seats.lock_pool(customer)
                yield
        finally:
            _drop_csv_rows()


# Each CSV row's fate for a renewal: a reason it cannot be renewed, or NULL when the
# learner may get a seat (they hold none, or an expired one). Parameter: now.
CLASSIFIED_FOR_RENEWAL = f"""
    classified AS (
        SELECT r.row_number, r.email, l.id AS learner_id, a.id AS allocation_id, a.expires_at,
            a.order_id, a.allocated_at, a.allocated_by_id,
            CASE
                WHEN NOT r.email_ok THEN 'invalid_email'
                WHEN NOT r.first_in_file THEN 'duplicate'
                WHEN l.id IS NULL THEN 'unknown_email'
                WHEN l.status <> 'active' THEN 'deactivated'
                WHEN a.expires_at > %(now)s THEN 'already_valid'
            END AS reason
        FROM pg_temp.csv_rows r
        LEFT JOIN {LEARNER} l ON l.email = r.email AND r.email_ok
        LEFT JOIN {ALLOCATION} a ON a.learner_id = l.id AND a.ended_at IS NULL
    )
"""

# The same for a renewal early (Expiring Soon): NULL when the learner's seat is valid
# and expires within the window. Parameters: now, until (now + the window).
CLASSIFIED_FOR_RENEWAL_EARLY = f"""
    classified AS (
        SELECT r.row_number, r.email, l.id AS learner_id, a.id AS allocation_id, a.expires_at,
            a.order_id, a.allocated_at, a.allocated_by_id,
            CASE
                WHEN NOT r.email_ok THEN 'invalid_email'
                WHEN NOT r.first_in_file THEN 'duplicate'
                WHEN l.id IS NULL THEN 'unknown_email'
                WHEN l.status <> 'active' THEN 'deactivated'
                WHEN a.expires_at > %(now)s AND a.expires_at <= %(until)s THEN NULL
                WHEN a.expires_at > %(until)s AND EXISTS (
                    SELECT 1 FROM {ALLOCATION} h
                    WHERE h.learner_id = l.id AND h.end_reason = 'renewed_early') THEN 'already_moved'
                ELSE 'not_expiring'
            END AS reason
        FROM pg_temp.csv_rows r
        LEFT JOIN {LEARNER} l ON l.email = r.email AND r.email_ok
        LEFT JOIN {ALLOCATION} a ON a.learner_id = l.id AND a.ended_at IS NULL
    )
"""

# Each CSV row's outcome: ``renew`` for the rows that may get a seat, in the file's
# order while the free seats last, otherwise the reason code. Parameter: capacity.
OUTCOME = """
    outcome AS (
        SELECT row_number, email, coalesce(reason,
            CASE WHEN row_number() OVER (PARTITION BY reason IS NULL ORDER BY row_number) <= %(capacity)s
                 THEN 'renew' ELSE 'not_enough_licences' END) AS outcome
        FROM classified
    )
"""

# Why a row of Import Allocation on the Expiring Soon tab is not renewed early.
NOT_RENEWED_EARLY_REASONS = {
    "unknown_email": "Unknown email: no learner has this email address",
    "invalid_email": "Invalid email address",
    "not_expiring": "Not expiring in the window (no licence, already expired, or expiring later)",
    "already_moved": "Already moved to a later order (renewed early)",
    "deactivated": "Learner is deactivated",
    "duplicate": "Duplicate in the file (an earlier row has this email)",
    "not_enough_licences": "Not enough free licences in later orders",
}


@dataclass(frozen=True)
class Renewal:
    """What Import Allocation does with a file: renew expired learners (Expired
    Licences) or renew early the ones expiring within ``days`` (Expiring Soon). The
    steps are the same; the rows' classification, the reasons and, for a renewal
    early, the orders the seats may come from differ."""

    early: bool
    now: object
    days: int | None = None

    @classmethod
    def of(cls, upload: CsvUpload, now, days=None) -> "Renewal":
        early = upload.purpose == CsvUpload.Purpose.RENEW_EARLY
        if early and days not in reads.EXPIRING_WINDOWS:
            raise LearnerError("Choose a window of 7, 30, 60 or 90 days.", code=LearnerErrorCode.INVALID_WINDOW)
        return cls(early=early, now=now, days=days if early else None)

    @property
    def reasons(self) -> dict[str, str]:
        return NOT_RENEWED_EARLY_REASONS if self.early else NOT_RENEWED_REASONS

    @property
    def classified(self) -> str:
        return CLASSIFIED_FOR_RENEWAL_EARLY if self.early else CLASSIFIED_FOR_RENEWAL

    @property
    def params(self) -> dict:
        params = {"now": self.now}
        if self.early:
            params["until"] = self.now + timedelta(days=self.days)
        return params

    def expiring_after(self, customer):
        """A renewal early's seats come from orders expiring after every renewable
        row's current seat (read from ``pg_temp.csv_rows`` only when an order with
        free seats expires inside the window); None otherwise."""
        if not self.early:
            return None

        def latest():
            with connection.cursor() as cursor:
                cursor.execute(
                    f"WITH {self.classified} SELECT max(expires_at) FROM classified WHERE reason IS NULL", self.params
                )
                return cursor.fetchone()[0]

        return reads.renew_early_bound(customer, self.now, self.days, latest)

    def capacity(self, customer, order_id=None) -> int:
        return reads.free_seats(customer, self.now, order_id, self.expiring_after(customer))

    def outcome_sql(self, select: str) -> str:
        return f"WITH {self.classified}, {OUTCOME} {select}"


# --- 2. Review (Import Allocation) --------------------------------------------------------


@dataclass
class ImportAllocationPreview:
    """Import Allocation's figures for one column of a file: each row's outcome
    (``renew`` or a reason code) counted, and the first rows not renewed."""

    column: int
    column_name: str
    row_count: int
    counts: dict[str, int]
    sample: list[tuple[int, str, str]] = field(default_factory=list)  # (row number, email, reason code)
    free_seats: int = 0
    labels: dict[str, str] = field(default_factory=lambda: NOT_RENEWED_REASONS)

    @classmethod
    def of(cls, upload: CsvUpload, column: int, counts, sample=None, free_seats=0, labels=None):
        return cls(
            column=column,
            column_name=upload.columns[column],
            row_count=upload.row_count,
            counts=counts,
            sample=sample or [],
            free_seats=free_seats,
            labels=labels or NOT_RENEWED_REASONS,
        )

    @property
    def to_renew(self) -> int:
        return self.counts.get("renew", 0)

    @property
    def not_renewed(self) -> int:
        return sum(n for reason, n in self.counts.items() if reason != "renew")

    @property
    def reasons(self) -> list[tuple[str, str, int]]:
        return [(code, label, self.counts[code]) for code, label in self.labels.items() if self.counts.get(code)]

    @property
    def sample_with_reasons(self) -> list[tuple[int, str, str]]:
        return [(number, email, self.labels[code]) for number, email, code in self.sample]

    @property
    def expected(self) -> str:
        """The figures, sent back with Renew Licences to detect a stale preview."""
        return ",".join(f"{code}:{n}" for code, n in sorted(self.counts.items()))


def parse_expected(value: str) -> dict[str, int] | None:
    try:
        return {code: int(n) for code, n in (part.split(":") for part in value.split(",") if part)}
    except ValueError:
        return None


def _classify(customer, renewal: Renewal, order_id=None, sample=SAMPLE_ROWS) -> tuple[dict, list, int]:
    """Counts of each row's outcome (``renew`` or a reason) and the first
    not-renewed rows, from ``pg_temp.csv_rows``, in one statement."""
    capacity = renewal.capacity(customer, order_id)
    with connection.cursor() as cursor:
        cursor.execute(
            renewal.outcome_sql(
                """
                SELECT outcome, count(*), NULL::integer, NULL::text FROM outcome GROUP BY outcome
                UNION ALL
                (SELECT outcome, 0, row_number, email FROM outcome WHERE outcome <> 'renew'
                 ORDER BY row_number LIMIT %(sample)s)
                """
            ),
            {**renewal.params, "capacity": capacity, "sample": sample},
        )
        counts, rows = {}, []
        for outcome, count, row_number, email in cursor.fetchall():
            if row_number is None:
                counts[outcome] = count
            else:
                rows.append((row_number, email, outcome))
    return counts, rows, capacity


def preview_import_allocation(customer, upload: CsvUpload, column, *, order_id=None, days=None, now=None):
    """What Renew Licences (or Renew Early) would do now: how many rows would be
    renewed and why each other row would not. Changes nothing."""
    renewal = Renewal.of(upload, now or timezone.now(), days)
    column = _check_column(upload, column)
    with _csv_rows_to_read(customer, upload, column):
        counts, sample, capacity = _classify(customer, renewal, order_id)
    return ImportAllocationPreview.of(upload, column, counts, sample, free_seats=capacity, labels=renewal.reasons)


def import_allocation_report(customer, upload: CsvUpload, column, *, order_id=None, days=None, now=None) -> str:
    """The rows that would not be renewed, as CSV: the file's own columns plus the
    reason, every cell escaped against spreadsheet formulas."""
    renewal = Renewal.of(upload, now or timezone.now(), days)
    column = _check_column(upload, column)
    with _csv_rows_to_read(customer, upload, column), connection.cursor() as cursor:
        capacity = renewal.capacity(customer, order_id)
        cursor.execute(
            renewal.outcome_sql("SELECT row_number, outcome FROM outcome WHERE outcome <> 'renew'"),
            {**renewal.params, "capacity": capacity},
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
            writer.writerow(safe_row([number, *cells, renewal.reasons[reason]]))
    return out.getvalue()


# --- 3. Confirm ------------------------------------------------------------------------------


def import_allocation(
    customer,
    upload: CsvUpload,
    column,
    *,
    acting_user,
    in_manage_mode=False,
    expected: dict[str, int] | None = None,
    order_id=None,
    days=None,
    progress=None,
    now=None,
) -> ImportAllocationPreview:
    """Renew Licences (or Renew Early): renew the learners the file names, recomputed
    now whatever the preview said, and all or nothing. With ``expected`` (the
    preview's figures), a renewal whose figures differ raises StalePreview and
    changes nothing."""
    renewal = Renewal.of(upload, now or timezone.now(), days)
    now = renewal.now
    column = _check_column(upload, column)
    with _csv_rows_with_pool_locked(customer, upload, column, progress=progress):
        sql, params = _positional(
            f"WITH {renewal.classified} SELECT learner_id, allocation_id, row_number, reason, "
            "order_id, expires_at, allocated_at, allocated_by_id FROM classified",
            renewal.params,
        )
        candidates = Candidates.from_sql(sql, params, at_most=upload.row_count)
        expiring_after = renewal.expiring_after(customer)
        if renewal.early and order_id is not None:
            picked = reads.seat_sources(customer, now, order_id)
            if not picked or picked[0].expires_at <= expiring_after:
                raise LearnerError(
                    "Choose an order that expires after the selected learners' licences; nothing was renewed.",
                    code=LearnerErrorCode.ORDER_NOT_LATER,
                )
        outcome = seats.give_seats(
            customer, candidates, acting_user=acting_user, now=now, order_id=order_id, expiring_after=expiring_after
        )
        counts = dict(outcome.not_eligible)
        if outcome.allocated:
            counts["renew"] = outcome.allocated
        if outcome.not_allocated:
            counts["not_enough_licences"] = outcome.not_allocated
        if expected is not None and counts != expected:
            raise StalePreview(counts)
        if renewal.early:
            events.licences_renewed_early(
                customer,
                actor=acting_user,
                in_manage_mode=in_manage_mode,
                selection="csv",
                search="",
                days=renewal.days,
                selected=upload.row_count,
                outcome=outcome,
                reasons={code: n for code, n in counts.items() if code != "renew"},
                file=upload.filename,
            )
        else:
            events.allocation_imported(
                customer,
                actor=acting_user,
                in_manage_mode=in_manage_mode,
                upload=upload,
                counts=counts,
                outcome=outcome,
            )
        if outcome.allocated:
            signals.learners_renewed.send(
                Allocation,
                customer=customer,
                outcome=outcome,
                selection="csv",
                acting_user=acting_user,
                early=renewal.early,
            )
    return ImportAllocationPreview.of(upload, column, counts, labels=renewal.reasons)


def _positional(sql: str, params: dict) -> tuple[str, list]:
    """The engine's candidates take positional parameters: name-style ones turned
    into ``%s`` in order of appearance."""
    values = []

    def take(match):
        values.append(params[match.group(1)])
        return "%s"

    return re.sub(r"%\((\w+)\)s", take, sql), values


@dataclass
class LearnersImported:
    """What Import Learners did: learners added, how many of them got a seat, and the
    rows skipped by reason."""

    added: int = 0
    allocated: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def waiting(self) -> int:
        """New learners left without a seat because none was free."""
        return self.added - self.allocated


def import_learners(
    customer,
    upload: CsvUpload,
    email_column,
    name_column=None,
    *,
    acting_user,
    in_manage_mode=False,
    progress=None,
    now=None,
) -> LearnersImported:
    """Add the file's new learners (email required, name optional) in one go; each
    gets a free seat automatically while seats last. Rows with an invalid email,
    repeats in the file and existing learners are skipped and counted."""
    now = now or timezone.now()
    email_column = _check_column(upload, email_column)
    if name_column is not None:
        name_column = _check_column(upload, name_column)
    with _csv_rows_with_pool_locked(customer, upload, email_column, name_column, progress=progress):
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
        result = LearnersImported(added=counts.pop("added"))
        new = counts.pop("new")
        if new > result.added:  # added meanwhile by someone else
            counts["already_learner"] = counts.get("already_learner", 0) + new - result.added
        result.skipped = counts
        candidates = Candidates.from_sql(
            """SELECT learner_id, NULL::bigint, min(row_number), NULL,
                    NULL::bigint, NULL::timestamptz, NULL::timestamptz, NULL::bigint
                FROM pg_temp.csv_rows WHERE learner_id IS NOT NULL GROUP BY learner_id""",
            at_most=upload.row_count,
        )
        result.allocated = seats.give_seats(customer, candidates, acting_user=acting_user, now=now).allocated
        events.learners_imported(
            customer, actor=acting_user, in_manage_mode=in_manage_mode, upload=upload, result=result
        )
    return result


# --- Background imports ----------------------------------------------------------------------


def mark_queued(customer, upload: CsvUpload, options: dict, *, in_manage_mode=False) -> bool:
    """Claim a reviewable upload for a background import with the manager's choices;
    False when it has been handed over already. Call inside a transaction in the
    customer's schema (learners.tasks.queue_import does)."""
    return bool(
        CsvUpload.objects.filter(pk=upload.pk, state__in=REVIEWABLE_STATES).update(
            state=CsvUpload.State.QUEUED,
            options={**options, "in_manage_mode": in_manage_mode},
            progress_done=0,
            progress_total=upload.row_count,
        )
    )


def run_queued_import(customer, upload_id: int, acting_user) -> str:
    """A worker's run of a queued import, in the customer's schema: claim the upload
    (a conditional update, so a redelivered task finds it claimed, unless the first
    run died), run the import with progress, and record its outcome. The import is
    one transaction, so a second run starts again from nothing. Returns the state."""
    with customer:
        now = timezone.now()
        claimed = (
            CsvUpload.objects.filter(pk=upload_id)
            .filter(
                Q(state=CsvUpload.State.QUEUED)
                | Q(state=CsvUpload.State.RUNNING, started_at__lt=now - RUN_CLAIM_TIMEOUT)
            )
            .update(state=CsvUpload.State.RUNNING, started_at=now, progress_done=0)
        )
        if not claimed:
            return "already claimed"
        upload = CsvUpload.objects.get(pk=upload_id)
        total = upload.row_count

        def progress(rows_read):
            CsvUpload.objects.filter(pk=upload_id).update(
                progress_done=int(min(rows_read, total) * READING_SHARE), progress_total=total
            )

        options = upload.options
        in_manage_mode = bool(options.get("in_manage_mode"))
        try:
            if upload.purpose in (CsvUpload.Purpose.IMPORT_ALLOCATION, CsvUpload.Purpose.RENEW_EARLY):
                preview = import_allocation(
                    customer,
                    upload,
                    options["column"],
                    acting_user=acting_user,
                    in_manage_mode=in_manage_mode,
                    expected=options.get("expected"),
                    order_id=options.get("order"),
                    days=options.get("days"),
                    progress=progress,
                )
                result, state = {"counts": preview.counts}, CsvUpload.State.DONE
            else:
                imported = import_learners(
                    customer,
                    upload,
                    options["column"],
                    options.get("name_column"),
                    acting_user=acting_user,
                    in_manage_mode=in_manage_mode,
                    progress=progress,
                )
                result = {"added": imported.added, "allocated": imported.allocated, "skipped": imported.skipped}
                state = CsvUpload.State.DONE
        except StalePreview as stale:
            result, state = {"counts": stale.counts, "message": str(stale)}, CsvUpload.State.STALE
        except LearnerError as error:
            result, state = {"message": str(error)}, CsvUpload.State.FAILED
        except Exception:
            CsvUpload.objects.filter(pk=upload_id).update(
                state=CsvUpload.State.FAILED,
                result={"message": "The import failed unexpectedly. Nothing was changed; please try again."},
                finished_at=timezone.now(),
            )
            raise
        # The file is no longer needed once its import is over.
        CsvUpload.objects.filter(pk=upload_id).update(
            state=state,
            result=result,
            finished_at=timezone.now(),
            progress_done=total,
            progress_total=total,
            content=b"" if state == CsvUpload.State.DONE else upload.content,
        )
    return state
