from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("partner/expiring/", views.upcoming_expiries, name="upcoming_expiries"),
    path("partner/expiring/renew/", views.request_renewals, name="request_renewals"),
    path("partner/notifications/", views.partner_settings, name="partner_settings"),
    path("partner/notifications/copies/", views.notice_copies, name="notice_copies"),
    path("partner/notifications/digest/", views.my_digest, name="my_digest"),
    path("notifications/digest/unsubscribe/<str:token>/", views.digest_unsubscribe, name="digest_unsubscribe"),
    path("partner/companies/<int:customer_id>/notifications/", views.customer_settings, name="customer_settings"),
    path(
        "partner/companies/<int:customer_id>/notifications/seat-alerts/",
        views.customer_seat_alerts,
        name="customer_seat_alerts",
    ),
]
