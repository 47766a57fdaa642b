from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

# The guide's single reminder, 72 hours before expiry (hours, like every lead time).
DEFAULT_REMINDER_LEADS = (72,)
# A reminder lead time is from 1 hour to 90 days before expiry.
MIN_LEAD_HOURS, MAX_LEAD_HOURS = 1, 90 * 24


class EmailKind(models.TextChoices):
    LICENCE_REQUEST = "licence_request", "Licence request"
    LICENCES_READY = "licences_ready", "Licences ready"
    REMINDER = "reminder", "Expiry reminder"
    EXPIRY = "expiry", "Licence expiry"


class EmailState(models.TextChoices):
    PENDING = "pending", "Pending"
    CLAIMED = "claimed", "Claimed"
    RETRYING = "retrying", "Waiting to retry"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


# States after which nothing more happens to an email; the others are in the scan's index.
SETTLED_STATES = (EmailState.SENT, EmailState.SKIPPED, EmailState.FAILED)
OPEN_STATES = (EmailState.PENDING, EmailState.CLAIMED, EmailState.RETRYING)


def lead_label(hours: int) -> str:
    """A lead time as people say it: "72 hours", "7 days", "1 hour"."""
    if hours % 24 == 0 and hours != 72:
        days = hours // 24
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{hours} hour{'s' if hours != 1 else ''}"


class OrderEmail(models.Model):
    """The ledger of every email about an order: one row per planned email, planned
    when the order is requested or assigned (and re-planned when a schedule changes),
    claimed with a conditional UPDATE before sending, so each goes out once however
    often or concurrently the scheduler and the tasks run.

    ``due_at`` is when the email falls due (while ``retrying``: the next attempt's
    time). A ``claimed`` row is a run's lease from ``claimed_at``: once older than
    the claim timeout it was left by a dead worker and may be taken over. ``sent``, ``skipped`` (no longer true, or nobody to tell: ``error``
    says why) and ``failed`` (``error`` holds the provider's answer) are final and
    leave the scan's partial index."""

    order = models.ForeignKey("licences.LicenceOrder", on_delete=models.PROTECT, related_name="emails")
    kind = models.CharField(max_length=16, choices=EmailKind.choices)
    # Reminders: how long before expiry, in hours. 0 for the other kinds.
    lead_hours = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=EmailState.choices, default=EmailState.PENDING)
    planned_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipient_count = models.PositiveIntegerField(default=0)
    message_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "kind", "lead_hours"], name="one_email_per_order_kind_lead"),
        ]
        indexes = [
            # The scan: only emails still to deal with, by the time they fall due.
            models.Index(fields=["due_at"], name="email_due_idx", condition=Q(state__in=OPEN_STATES)),
            models.Index(fields=["state", "due_at"], name="email_state_idx"),
        ]

    def __str__(self):
        return f"{self.label} for order {self.order_id}: {self.get_state_display()}"

    @property
    def label(self) -> str:
        if self.kind == EmailKind.REMINDER:
            hours = self.lead_hours
            return f"{hours // 24}-day reminder" if hours % 24 == 0 and hours != 72 else f"{hours}-hour reminder"
        return self.get_kind_display()

    @property
    def is_settled(self) -> bool:
        return self.state in SETTLED_STATES


def validate_leads(value):
    from django.core.exceptions import ValidationError

    if not value:
        raise ValidationError("Give at least one reminder.")
    for hours in value:
        if not MIN_LEAD_HOURS <= hours <= MAX_LEAD_HOURS:
            raise ValidationError("Each reminder is from 1 hour to 90 days before expiry.")


class PartnerNotificationSettings(models.Model):
    """A partner's default reminder schedule for its customers (the expiry-day notice
    is always sent besides)."""

    partner = models.OneToOneField("partners.Partner", on_delete=models.CASCADE, related_name="notification_settings")
    reminder_leads = ArrayField(
        models.PositiveIntegerField(validators=[MinValueValidator(MIN_LEAD_HOURS), MaxValueValidator(MAX_LEAD_HOURS)]),
        default=list,
        validators=[validate_leads],
    )
    updated_at = models.DateTimeField(default=timezone.now)
    # The partner's managers are copied (Cc) on its customers' expiry notices.
    copy_managers_on_expiry = models.BooleanField(default=False)

    def __str__(self):
        return f"Notification settings of {self.partner}"


class CustomerNotificationSettings(models.Model):
    """A customer's own reminder schedule, overriding its partner's default."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="notification_settings"
    )
    reminder_leads = ArrayField(
        models.PositiveIntegerField(validators=[MinValueValidator(MIN_LEAD_HOURS), MaxValueValidator(MAX_LEAD_HOURS)]),
        default=list,
        validators=[validate_leads],
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Notification settings of {self.customer}"


class PartnerDigest(models.Model):
    """The ledger of the partners' weekly digests: one row per partner per week (the
    unique key keeps it to one however many beats run), claimed with a conditional
    UPDATE like the order emails. ``week_of`` is the Monday, on the partner's
    calendar; ``sent_to`` the managers it went to, so a retry after a partial failure
    does not send it to them again."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="digests")
    week_of = models.DateField()
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=EmailState.choices, default=EmailState.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_to = ArrayField(models.PositiveIntegerField(), default=list, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "week_of"], name="one_digest_per_partner_week")]

    def __str__(self):
        return f"Digest of {self.partner} for the week of {self.week_of}: {self.get_state_display()}"


class DigestOptOut(models.Model):
    """A partner manager who turned the weekly digest off (from the email's signed
    link, or on the Notification settings page). Deleted when turned back on."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_opt_out")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.user} does not get the weekly digest"


# --- Seat alerts ----------------------------------------------------------------------------


class SeatAlertKind(models.TextChoices):
    EXHAUSTED = "seats_exhausted", "No free licences"
    NEARLY_FULL = "seats_90", "90 % of licences used"


class SeatAlert(models.Model):
    """The ledger's rows for a customer's seat alerts, one per episode and kind, sent
    like the order emails (claimed with a conditional UPDATE, no lock on the pool).

    An episode opens when the pool first reaches the alert's condition (no free seat
    while new learners wait; use at or above 90 %) and ends (``ended_at``) when it no
    longer holds (seats are free again; use below 90 %). At most one open episode per
    customer and kind (a partial unique index), so however many learners are added at
    once, an episode is planned, and emailed, once; a later one is a new row."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="seat_alerts")
    kind = models.CharField(max_length=16, choices=SeatAlertKind.choices)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The pool when the episode opened: learners waiting, seats used of the total.
    waiting = models.PositiveIntegerField(default=0)
    seats_used = models.PositiveIntegerField(default=0)
    seats_total = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=EmailState.choices, default=EmailState.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipient_count = models.PositiveIntegerField(default=0)
    message_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind"], condition=Q(ended_at__isnull=True), name="one_open_seat_alert_per_kind"
            ),
        ]
        indexes = [
            models.Index(fields=["due_at"], name="seat_alert_due_idx", condition=Q(state__in=OPEN_STATES)),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} alert for customer {self.customer_id}: {self.get_state_display()}"

    @property
    def label(self) -> str:
        return "seat alert (no free licences)" if self.kind == SeatAlertKind.EXHAUSTED else "seat alert (90 % used)"

    @property
    def is_settled(self) -> bool:
        return self.state in SETTLED_STATES


class SeatAlertSettings(models.Model):
    """A customer's optional seat alert: email its managers when use crosses 90 %
    (the alert when no seat is left for waiting learners is always on)."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="seat_alert_settings")
    alert_at_90_percent = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Seat alerts of {self.customer}"
