from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("partner/expiring/", views.upcoming_expiries, name="upcoming_expiries"),
    path("partner/notifications/", views.partner_settings, name="partner_settings"),
    path("partner/companies/<int:customer_id>/notifications/", views.customer_settings, name="customer_settings"),
    path(
        "partner/companies/<int:customer_id>/notifications/seat-alerts/",
        views.customer_seat_alerts,
        name="customer_seat_alerts",
    ),
]
