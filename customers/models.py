import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone.")


class Customer(TenantMixin):
    """A customer company: one django-tenants tenant, one PostgreSQL schema.

    Companies are deactivated, not deleted: tenant rows refer to public rows."""

    name = models.CharField(max_length=200)
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="customers")
    time_zone = models.CharField(
        max_length=64, default=settings.DEFAULT_CUSTOMER_TIME_ZONE, validators=[validate_time_zone]
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["partner", "name"])]

    def __str__(self):
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Domain(DomainMixin):
    """Required by django-tenants. Requests are not routed by host name here (the
    tenant comes from the signed-in user), so each customer has one nominal domain."""
