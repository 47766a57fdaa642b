from django.contrib import admin

from customers.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "partner", "schema_name", "time_zone", "is_active", "created_at"]
    list_filter = ["is_active", "partner"]
    search_fields = ["name", "schema_name"]
    list_select_related = ["partner"]
    readonly_fields = ["schema_name"]

    def has_add_permission(self, request):
        return False  # customers are created with `manage.py create_customer`, which makes the schema

    def has_delete_permission(self, request, obj=None):
        return False
