import zoneinfo

from django.conf import settings
from django.db import models
from django.utils import timezone

from customers.models import validate_time_zone


class Partner(models.Model):
    """A reseller that owns customer companies."""

    name = models.CharField(max_length=200, unique=True)
    is_active = models.BooleanField(default=True)
    # The partner's managers must sign in with a code from an authenticator app.
    require_two_factor = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # Where the partner works: its weekly digest goes out Monday 08:00 here.
    time_zone = models.CharField(
        max_length=64, default=settings.DEFAULT_CUSTOMER_TIME_ZONE, validators=[validate_time_zone]
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)
