from django.contrib import admin

from common.admin import ReadOnlyAdmin
from licences.models import LicenceOrder


@admin.register(LicenceOrder)
class LicenceOrderAdmin(ReadOnlyAdmin):
    """Read-only: orders change state only through licences.services (the pages, or
    ``manage.py assign_order`` / ``cancel_order`` from the shell)."""

    list_display = [
        "id",
        "partner",
        "customer",
        "quantity",
        "allocated_count",
        "status",
        "requested_at",
        "assigned_at",
        "expires_at",
    ]
    list_filter = ["status", "customer__partner"]
    search_fields = ["customer__name", "customer__schema_name", "id"]
    list_select_related = ["customer__partner"]
    readonly_fields = ["partner"]
    date_hierarchy = "requested_at"

    @admin.display(ordering="customer__partner__name")
    def partner(self, order):
        return order.customer.partner
