from django.contrib import admin

from common.admin import ReadOnlyAdmin
from notifications.models import ExpiryNotice


@admin.register(ExpiryNotice)
class ExpiryNoticeAdmin(ReadOnlyAdmin):
    """The expiry-notification ledger, read-only: only the scheduler writes it."""

    list_display = [
        "id",
        "order_id",
        "customer",
        "kind",
        "state",
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
    date_hierarchy = "claimed_at"
    show_full_result_count = False

    @admin.display(description="Customer", ordering="order__customer__name")
    def customer(self, notice):
        return notice.order.customer.name

    @admin.display(description="Error")
    def short_error(self, notice):
        return notice.error.splitlines()[0][:120] if notice.error else ""
