from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import AuditEvent, User
from common.admin import ReadOnlyAdmin


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "partner", "customer", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    list_select_related = ["partner", "customer"]
    autocomplete_fields = ["partner", "customer"]
    fieldsets = [
        (None, {"fields": ["email", "password", "full_name"]}),
        ("Role", {"fields": ["role", "partner", "customer"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "full_name", "role", "partner", "customer", "password1", "password2"],
            },
        ),
    ]

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: tenant rows refer to users


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "actor", "customer", "partner", "in_manage_mode"]
    list_filter = ["action", "in_manage_mode"]
    search_fields = ["actor__email", "customer__name"]
    list_select_related = ["actor", "customer", "partner"]
    date_hierarchy = "at"
