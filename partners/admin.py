from django.contrib import admin

from partners.models import Partner


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "require_two_factor", "created_at"]
    search_fields = ["name"]
    # Changed by the partner's own managers on their Security page, which audits it.
    readonly_fields = ["require_two_factor"]

    def has_delete_permission(self, request, obj=None):
        return False
