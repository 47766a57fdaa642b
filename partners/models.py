from django.db import models
from django.utils import timezone


class Partner(models.Model):
    """A reseller that owns customer companies."""

    name = models.CharField(max_length=200, unique=True)
    is_active = models.BooleanField(default=True)
    # The partner's managers must sign in with a code from an authenticator app.
    require_two_factor = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
