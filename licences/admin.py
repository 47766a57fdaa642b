from django.contrib import admin

from licences.models import LicenceOrder


@admin.register(LicenceOrder)
class LicenceOrderAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
