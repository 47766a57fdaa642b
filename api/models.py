"""The partner API's rows, all in the public schema: tokens, the responses kept for
Idempotency-Key, and webhooks (endpoints, the events sent to them, each delivery and
each attempt of it)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone


class TokenScope(models.TextChoices):
    READ = "read", "Read"
    READ_WRITE = "read_write", "Read and write"


class ApiToken(models.Model):
    """A partner's API token. The secret is shown once, when it is made, and kept only
    as a SHA-256 hash (it is 256 random bits, so a fast hash is enough: nothing is
    left to guess). ``key_id`` is the public part of the token, shown on the API page
    and used to find the row; the full token reads ``lic_<key_id>_<secret>``.

    A token acts as its partner, through the partner manager who made it: it stops
    working when revoked, when it expires, when that manager is deactivated or leaves
    the partner, or when the partner is deactivated (api.tokens.authenticate)."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=10, choices=TokenScope.choices, default=TokenScope.READ)
    key_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["partner", "-created_at"], name="apitoken_partner_idx")]

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    @property
    def prefix(self) -> str:
        """What the API page shows of the token: enough to recognise it."""
        return f"lic_{self.key_id}"

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.READ_WRITE

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class IdempotentRequest(models.Model):
    """The first response to a POST sent with an Idempotency-Key, replayed to every
    retry with the same key (for a day), so a retried request acts once.

    Keys belong to the partner, whichever of its tokens sent them. ``fingerprint`` is a
    hash of the method, path and body: the same key with another request is refused."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "key"], name="one_response_per_idempotency_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotent_created_idx")]

    def __str__(self):
        return f"{self.key} ({self.status_code})"


class WebhookEventType(models.TextChoices):
    ORDER_REQUESTED = "order.requested", "An order was requested"
    ORDER_ASSIGNED = "order.assigned", "An order was assigned"
    ORDER_CANCELLED = "order.cancelled", "An order was cancelled"
    LICENCES_EXPIRING = "licences.expiring", "Licences expire soon (each reminder)"
    LICENCES_EXPIRED = "licences.expired", "Licences expired"
    LEARNERS_RENEWED = "learners.renewed", "Learners were renewed"
    SEATS_EXHAUSTED = "seats.exhausted", "A customer ran out of free licences"


class WebhookEndpoint(models.Model):
    """A URL of the partner's that receives the events it picked, signed with the
    endpoint's own secret (Standard Webhooks). Disabled after days of failures
    (``failing_since`` is the first failed attempt since the last success)."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    event_types = ArrayField(models.CharField(max_length=40, choices=WebhookEventType.choices))
    secret = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["partner", "is_active"], name="webhook_endpoint_partner_idx")]

    def __str__(self):
        return self.url


class WebhookMessage(models.Model):
    """One event, as sent to every endpoint that asked for it. ``uid`` is the
    ``webhook-id`` header: the same for every attempt and every redelivery, so a
    receiver can drop duplicates."""

    uid = models.CharField(max_length=40, unique=True)
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event_type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.event_type} {self.uid}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    RETRYING = "retrying", "Waiting to retry"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One message to one endpoint, until it is delivered or given up on.

    ``next_attempt_at`` is when a worker should try next: now for a new delivery, the
    backoff's time after a failure, the end of the lease while one worker is sending
    (a worker that died is replaced after it), NULL once delivered or failed. The
    sweep reads the partial index on it, so its cost grows with the work due."""

    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    retry_until = models.DateTimeField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    # Set by Redeliver: the next attempt is recorded as made by hand.
    redelivered_by_hand = models.BooleanField(default=False)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["message", "endpoint"], name="one_delivery_per_endpoint")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="webhook_due_idx", condition=Q(next_attempt_at__isnull=False)
            ),
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_endpoint_idx"),
        ]

    def __str__(self):
        return f"{self.message} to {self.endpoint}: {self.get_state_display()}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: what the endpoint answered, and how fast."""

    class Trigger(models.TextChoices):
        AUTOMATIC = "automatic", "Automatic"
        MANUAL = "manual", "Redelivered by hand"

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.AUTOMATIC)
    attempted_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["delivery", "-attempted_at"], name="webhook_attempt_delivery_idx")]

    def __str__(self):
        return f"Attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
