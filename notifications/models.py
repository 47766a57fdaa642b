from django.db import models
from django.utils import timezone


class NoticeKind(models.TextChoices):
    REMINDER_72H = "reminder_72h", "72-hour reminder"
    EXPIRY = "expiry", "Licence expiry"


class NoticeState(models.TextChoices):
    CLAIMED = "claimed", "Claimed"
    RETRYING = "retrying", "Waiting to retry"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


# States after which nothing more happens to a notice.
SETTLED_STATES = (NoticeState.SENT, NoticeState.SKIPPED, NoticeState.FAILED)


class ExpiryNotice(models.Model):
    """The ledger of expiry emails: one row per (order, kind), claimed before sending,
    so each notice goes out once however often or concurrently the scheduler runs.

    ``claimed``: a run took it and is sending (``claimed_at`` says when; a claim
    older than the timeout was left by a dead worker and may be taken over).
    ``retrying``: the provider failed for a reason worth another try; the order's
    ``next_notice_at`` says when. ``sent``, ``skipped`` (no longer true, or nobody
    to tell: ``error`` says why) and ``failed`` (``error`` holds the provider's
    answer) are final."""

    order = models.ForeignKey("licences.LicenceOrder", on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=16, choices=NoticeKind.choices)
    state = models.CharField(max_length=10, choices=NoticeState.choices, default=NoticeState.CLAIMED)
    claimed_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipient_count = models.PositiveIntegerField(default=0)
    message_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "kind"], name="one_notice_per_order_and_kind")]
        indexes = [models.Index(fields=["state", "claimed_at"], name="notice_state_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} for order {self.order_id}: {self.get_state_display()}"

    @property
    def is_settled(self) -> bool:
        return self.state in SETTLED_STATES
