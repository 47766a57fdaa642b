from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import AuditEvent, User
from common.admin import ReadOnlyAdmin


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "partner", "customer", "is_active", "two_factor_enabled"]
    list_filter = ["role", "is_active", "is_staff", "two_factor_enabled"]
    readonly_fields = ["two_factor_enabled"]
    actions = ["reset_two_factor"]
    search_fields = ["email", "full_name"]
    list_select_related = ["partner", "customer"]
    autocomplete_fields = ["partner", "customer"]
    fieldsets = [
        (None, {"fields": ["email", "password", "full_name"]}),
        ("Role", {"fields": ["role", "partner", "customer"]}),
        ("Two-factor sign-in", {"fields": ["two_factor_enabled"]}),
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

    @admin.action(description="Reset two-factor sign-in (lost phone)")
    def reset_two_factor(self, request, queryset):
        """Removes the selected users' authenticators; each sets up a new one at their
        next sign-in if they must have one. Audited with the operator as actor."""
        reset = [
            user.email
            for user in queryset.select_related("partner", "customer__partner")
            if two_factor.remove_devices(user, acting_user=request.user)
        ]
        if reset:
            self.message_user(request, f"Two-factor sign-in reset for {', '.join(reset)}.", messages.SUCCESS)
        else:
            self.message_user(request, "None of the selected users had two-factor sign-in on.", messages.WARNING)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(ReadOnlyAdmin):
    """Authenticators, to look at only: secrets are never shown, and removing one goes
    through the audited "Reset two-factor sign-in" action on users. Registered before
    django-otp's own TOTP admin (accounts comes first in INSTALLED_APPS), which then
    finds the model taken and steps aside."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "actor", "customer", "partner", "in_manage_mode"]
    list_filter = ["action", "in_manage_mode"]
    search_fields = ["actor__email", "customer__name"]
    list_select_related = ["actor", "customer", "partner"]
    date_hierarchy = "at"
