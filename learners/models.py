"""Tenant-schema models: each customer's learners and the seats allocated to them.

References to public rows (orders, users) are plain ids without a database foreign
key: a constraint from every tenant schema into public would block deleting or
truncating public rows, and public rows are never deleted anyway (orders are
cancelled, users deactivated)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from common.search import Trigrams


class LearnerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DEACTIVATED = "deactivated", "Deactivated"


# The search's pieces (Learner below) are for PostgreSQL alone: never read into Python.
SEARCH_TRIGRAMS = ("email_trigrams", "name_trigrams")


class LearnerManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().defer(*SEARCH_TRIGRAMS)


class Learner(models.Model):
    email = models.EmailField(unique=True, max_length=254)  # stored trimmed and lower-cased
    name = models.CharField(max_length=150, blank=True)
    # The name lower-cased, kept by PostgreSQL: a search compares it and the email
    # (stored lower-cased) as they are, with no LOWER() or UPPER() on every row.
    name_folded = models.GeneratedField(expression=Lower("name"), output_field=models.TextField(), db_persist=True)
    # Their three-letter pieces (common/search.py), kept by PostgreSQL too, each under
    # a GIN index: a search finds the learners holding every piece of it through the
    # index, and checks a row read some other way against the stored pieces, where
    # recomputing them would cost some 20 microseconds a row.
    email_trigrams = models.GeneratedField(
        expression=Trigrams("email"), output_field=ArrayField(models.TextField()), db_persist=True
    )
    name_trigrams = models.GeneratedField(
        expression=Trigrams(Lower("name")), output_field=ArrayField(models.TextField()), db_persist=True
    )
    status = models.CharField(max_length=12, choices=LearnerStatus.choices, default=LearnerStatus.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects = LearnerManager()

    class Meta:
        ordering = ["email"]
        indexes = [
            models.Index(fields=["status", "email"], name="learner_status_email_idx"),
            # The search's (learners.reads.matching, common/search.py). GIN keeps
            # inserted rows in a pending list, which every search reads through, until
            # a vacuum or until it outgrows its limit: 4 MB by default, which after an
            # import of a few thousand learners made a search of one address take 20 ms
            # instead of 1. At 64 kB (the least) searches never wait on it, and imports
            # still write the index in batches (every row written on its own made an
            # import of 100,000 learners three times as slow).
            GinIndex(fields=["email_trigrams"], name="learner_email_trigrams", gin_pending_list_limit=64),
            GinIndex(fields=["name_trigrams"], name="learner_name_trigrams", gin_pending_list_limit=64),
        ]

    def __str__(self):
        return self.email


class Allocation(models.Model):
    """One seat of one order held by one learner.

    The seat expires with its order (``expires_at`` is the order's, copied at
    allocation, as an assigned order's expiry never changes). An allocation is
    *current* until it ends (``ended_at``): renewed (its history row), or the learner
    deactivated. A
    learner has at most one current allocation, enforced by a partial unique index,
    so at most one valid one. History rows are ended from the start.

    A renewal keeps the learner's current row and renews it in place (new order,
    expiry, time and manager), after copying its old values into a history row
    ended as ``renewed``. No index covers the columns a renewal changes, and the
    table leaves 60% of each page free (migration 0006), so PostgreSQL updates
    those rows in place on their page (a HOT update) without writing any index
    entry."""

    class EndReason(models.TextChoices):
        RENEWED = "renewed", "Renewed"
        # Moved to a seat of a later order before this one expired: the seat went back to its order.
        RENEWED_EARLY = "renewed_early", "Renewed early"
        DEACTIVATED = "deactivated", "Learner deactivated"

    # Indexes and checks are few on purpose: a renewal of 100,000 learners writes
    # 100,000 history rows and renews 100,000 more, and every index costs on each.
    # The partial unique index on learner (current allocations) serves every lookup
    # by learner the product makes; nothing filters allocations by order or by
    # allocated_by (seat counts per order live on the order), and an index on
    # expires_at would make every renewal write index entries. The learner reference
    # has no database constraint either (its per-row check at commit cost more than
    # the inserts themselves): allocations are only written by learners.seats
    # from learner ids selected in the same statement, and learners are never
    # deleted (PROTECT, deactivated).
    learner = models.ForeignKey(
        Learner, on_delete=models.PROTECT, related_name="allocations", db_index=False, db_constraint=False
    )
    order = models.ForeignKey(
        "licences.LicenceOrder", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    expires_at = models.DateTimeField()
    allocated_at = models.DateTimeField(default=timezone.now)
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["learner"], condition=Q(ended_at__isnull=True), name="one_current_allocation_per_learner"
            ),
        ]
        # Import Allocation on Expiring Soon asks whether a learner was renewed early
        # already: only those history rows are indexed, so other writes pay nothing.
        indexes = [
            models.Index(
                fields=["learner"], condition=Q(end_reason="renewed_early"), name="allocation_renewed_early_idx"
            )
        ]

    def __str__(self):
        return f"{self.learner} · order {self.order_id}"

    def is_valid(self, now=None) -> bool:
        return self.ended_at is None and self.expires_at > (now or timezone.now())


class Lapse(models.Model):
    """A learner whose current seat had expired when the customer's lapses were last
    recorded (learners.lapses, ``Customer.lapses_recorded_at``): the Expired
    Licences list's own index, so that finding the few expired learners among many
    valid ones reads those few, not every learner in email order.

    Written only by learners.lapses, after an order expires and after renewals, never
    by a renewal itself: every index on the allocations would cost each renewal, and
    this table's rows may outlive the lapse (a renewed learner's row stays until the
    next recording), so a read still checks the learner's current seat. ``email`` and
    ``name_folded`` are the learner's (never changed once added), copied so that the
    list's order is this table's index and a search is compared on the row read,
    before any learner is."""

    learner = models.OneToOneField(
        Learner, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="lapse"
    )
    email = models.EmailField(max_length=254)
    name_folded = models.TextField(blank=True)  # the learner's, for a search to compare here

    class Meta:
        indexes = [models.Index(fields=["email", "learner"], name="lapse_email_idx")]

    def __str__(self):
        return self.email


class CarryOverSetting(models.Model):
    """The customer's choice (one row, in its schema): when an order expires, move its
    active learners to free seats of later orders. Off (no row, or ``on_since`` empty)
    by default. ``on_since`` is when it was last turned on: an order that expired
    before then is never carried over (its learners had lost access already)."""

    on_since = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    def __str__(self):
        return f"Carry-over {'on since ' + str(self.on_since) if self.on_since else 'off'}"


class CarryOver(models.Model):
    """What carry-over did when one order expired, once per order (the unique order
    id makes a retried expiry job find it done): who was moved and who was not, for
    the expiry notice."""

    order = models.OneToOneField(
        "licences.LicenceOrder", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    ran_at = models.DateTimeField(default=timezone.now)
    moved = models.JSONField(default=list)  # emails, in the order they were moved
    not_moved = models.JSONField(default=list)  # emails left without a seat
    moved_count = models.PositiveIntegerField(default=0)
    not_moved_count = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"Carry-over of order {self.order_id}: {self.moved_count} moved, {self.not_moved_count} not"


class CsvUpload(models.Model):
    """An uploaded CSV kept between the steps of an import (choose the column,
    preview, confirm) and, for a big file, while a Celery worker runs it.

    The bytes live in the database, not on one web server's disk, so any instance
    can serve the next step. The row is bound to this customer by its schema and to
    the manager who uploaded it by ``uploaded_by_id``; pages find it by an
    unguessable token, never by id. Uploads older than a day are deleted when the
    next one arrives."""

    class Purpose(models.TextChoices):
        IMPORT_ALLOCATION = "allocation", "Import Allocation"
        RENEW_EARLY = "renew_early", "Import Allocation (Renew Early)"
        IMPORT_LEARNERS = "learners", "Import Learners"

    class State(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        STALE = "stale", "Changed since the preview"
        FAILED = "failed", "Failed"

    token = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    filename = models.CharField(max_length=255, blank=True)
    content = models.BinaryField()
    encoding = models.CharField(max_length=16)
    delimiter = models.CharField(max_length=1)
    columns = models.JSONField(default=list)
    row_count = models.PositiveIntegerField(default=0)

    # The import itself, once confirmed: its choices, its progress and its outcome.
    options = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.UPLOADED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["uploaded_at"], name="csvupload_uploaded_idx")]

    def __str__(self):
        return f"{self.get_purpose_display()} {self.filename} ({self.row_count} rows)"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0
