from django.contrib import admin

from common.admin import ReadOnlyAdmin
from notifications.models import (
    CustomerNotificationSettings,
    OrderEmail,
    PartnerDigest,
    PartnerNotificationSettings,
    SeatAlert,
    SeatAlertSettings,
)


@admin.register(OrderEmail)
class OrderEmailAdmin(ReadOnlyAdmin):
    """The email ledger, every kind, read-only: only the planner and the sender write it."""

    list_display = [
        "id",
        "order_id",
        "customer",
        "kind",
        "lead",
        "state",
        "due_at",
        "attempts",
        "claimed_at",
        "sent_at",
        "recipient_count",
        "message_id",
        "short_error",
    ]
    list_filter = ["kind", "state"]
    search_fields = ["order__customer__name", "=order__id", "message_id"]
    list_select_related = ["order__customer"]
    date_hierarchy = "due_at"
    show_full_result_count = False

    @admin.display(description="Customer", ordering="order__customer__name")
    def customer(self, email):
        return email.order.customer.name

    @admin.display(description="Reminder", ordering="lead_hours")
    def lead(self, email):
        return email.label if email.kind == "reminder" else ""

    @admin.display(description="Error")
    def short_error(self, email):
        return email.error.splitlines()[0][:120] if email.error else ""


@admin.register(PartnerNotificationSettings)
class PartnerNotificationSettingsAdmin(ReadOnlyAdmin):
    """Partners change these on their Notification settings page (audited)."""

    list_display = ["partner", "reminder_leads", "copy_managers_on_expiry", "updated_at"]


@admin.register(CustomerNotificationSettings)
class CustomerNotificationSettingsAdmin(ReadOnlyAdmin):
    list_display = ["customer", "reminder_leads", "updated_at"]


@admin.register(PartnerDigest)
class PartnerDigestAdmin(ReadOnlyAdmin):
    """The weekly digests, one per partner per week: sent once by the beat."""

    list_display = ["partner", "week_of", "state", "attempts", "sent_at", "error"]
    list_filter = ["state"]


@admin.register(SeatAlert)
class SeatAlertAdmin(ReadOnlyAdmin):
    """The ledger's seat alerts, one row per customer episode, read-only."""

    list_display = [
        "id",
        "customer",
        "kind",
        "started_at",
        "ended_at",
        "waiting",
        "state",
        "due_at",
        "attempts",
        "sent_at",
        "recipient_count",
        "message_id",
        "short_error",
    ]
    list_filter = ["kind", "state"]
    search_fields = ["customer__name", "message_id"]
    list_select_related = ["customer"]
    date_hierarchy = "started_at"
    show_full_result_count = False

    @admin.display(description="Error")
    def short_error(self, alert):
        return alert.error.splitlines()[0][:120] if alert.error else ""


@admin.register(SeatAlertSettings)
class SeatAlertSettingsAdmin(ReadOnlyAdmin):
    """Partners turn the 90 % alert on or off on a customer's Notification settings page (audited)."""

    list_display = ["customer", "alert_at_90_percent", "updated_at"]
