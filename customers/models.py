import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import schema_exists


@cache
def known_time_zones() -> frozenset[str]:
    """Read from the tz database's files once per process: 70 ms a time."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value):
    if value not in known_time_zones():
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
    # Since when carry-over at expiry is on (learners.carry_over, whose setting row in
    # the customer's schema says who changed it), kept here in the same transaction so
    # the expiry job can tell it is off without entering the customer's schema.
    carry_over_since = models.DateTimeField(null=True, blank=True, editable=False)
    # When learners.lapses last recorded which learners' seats had expired: every
    # order that expired by then has its learners in the customer's lapses. Empty:
    # never (the Expired Licences list reads the allocations themselves).
    lapses_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)

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

    def clean(self):
        if self.schema_name == settings.CUSTOMER_TEMPLATE_SCHEMA:
            raise ValidationError({"schema_name": "This schema name is reserved for the template of new customers."})

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """Make this customer's schema: a copy of the template schema, kept current by
        migrate_schemas, which takes a fraction of the time of migrating a fresh one
        and stays flat however many customers there are. Without a current template
        (a deploy whose migrate_schemas has not run yet) the schema is migrated."""
        from customers.schemas import copy_template

        if check_if_exists and schema_exists(self.schema_name):
            return False
        if sync_schema and copy_template(self.schema_name):
            return True
        return super().create_schema(check_if_exists=check_if_exists, sync_schema=sync_schema, verbosity=verbosity)


class Domain(DomainMixin):
    """Required by django-tenants. Requests are not routed by host name here (the
    tenant comes from the signed-in user), so each customer has one nominal domain."""
