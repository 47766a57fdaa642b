from django.contrib import admin

from licences.models import LicenceOrder


@admin.register(LicenceOrder)
class LicenceOrderAdmin(admin.ModelAdmin):
    """Read-only: orders change state only through licences.services."""

    list_display = [
        "id",
        "customer",
        "quantity",
        "allocated_count",
        "status",
        "requested_at",
        "assigned_at",
        "expires_at",
    ]
    list_filter = ["status"]
    search_fields = ["customer__name", "id"]
    list_select_related = ["customer"]
    date_hierarchy = "requested_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
