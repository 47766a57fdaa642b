from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class OrderStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ASSIGNED = "assigned", "Assigned"
    CANCELLED = "cancelled", "Cancelled"


class LicenceOrderQuerySet(models.QuerySet):
    def valid(self, now=None):
        """Assigned and not yet expired: the orders whose seats give access."""
        return self.filter(status=OrderStatus.ASSIGNED, expires_at__gt=now or timezone.now())

    def expired(self, now=None):
        return self.filter(status=OrderStatus.ASSIGNED, expires_at__lte=now or timezone.now())


class LicenceOrder(models.Model):
    """A request for N licences for one customer; live for 12 months once assigned.

    Lives in the public schema so partner pages and the email scan read it without
    visiting tenant schemas (the emails about it are notifications' ledger, which
    points here). ``allocated_count`` mirrors the customer's allocations
    from this order and is changed in the same transaction as they are; the check
    constraint makes over-allocation impossible whatever the concurrency."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="orders")
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.REQUESTED)
    allocated_count = models.PositiveIntegerField(default=0)

    requested_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_orders"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = LicenceOrderQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(name="order_quantity_positive", condition=Q(quantity__gte=1)),
            models.CheckConstraint(
                name="order_allocated_within_quantity", condition=Q(allocated_count__lte=F("quantity"))
            ),
            models.CheckConstraint(
                name="order_assigned_has_expiry",
                condition=~Q(status=OrderStatus.ASSIGNED) | Q(assigned_at__isnull=False, expires_at__isnull=False),
            ),
        ]
        indexes = [
            # The partner's Requested Orders, newest first: unfiltered, by status (the
            # default list), by customer, by requester (who may have requested thousands).
            models.Index(fields=["-requested_at", "-id"], name="order_requested_idx"),
            models.Index(fields=["customer", "-requested_at", "-id"], name="order_customer_idx"),
            models.Index(fields=["status", "-requested_at", "-id"], name="order_status_idx"),
            models.Index(fields=["requested_by", "status", "-requested_at", "-id"], name="order_requester_idx"),
            models.Index(
                fields=["customer", "expires_at"],
                name="order_valid_pool_idx",
                condition=Q(status=OrderStatus.ASSIGNED),
            ),
        ]

    def __str__(self):
        return f"Order #{self.pk} · {self.quantity} licences for {self.customer}"

    @property
    def free_seats(self) -> int:
        return self.quantity - self.allocated_count

    def is_valid(self, now=None) -> bool:
        return self.status == OrderStatus.ASSIGNED and self.expires_at > (now or timezone.now())

    def is_expired(self, now=None) -> bool:
        return self.status == OrderStatus.ASSIGNED and self.expires_at <= (now or timezone.now())


class SeatSnapshot(models.Model):
    """How many seats of a customer were in use on one day of its calendar: the
    history behind the Licences overview's "seats in use per week" chart.

    Counting a year of allocation history on every page view would scan the
    customer's whole allocations table (a million rows for a big customer), so the
    figure is written once a day instead: Celery beat records today's row every hour
    from the orders' ``allocated_count`` (licences.seat_use.record_today, one
    statement for every customer), so the day's last run stands for its end; past
    days are filled once from the allocation history (``record_seat_history``).
    A day's row never changes once the day is over."""

    # The unique constraint's index (customer, day) serves every lookup.
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+", db_index=False)
    day = models.DateField()  # on the customer's calendar
    seats_in_use = models.PositiveIntegerField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "day"], name="one_seat_snapshot_per_day")]

    def __str__(self):
        return f"{self.customer_id} · {self.day}: {self.seats_in_use}"
