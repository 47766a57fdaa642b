from django.urls import path

from insight import views

app_name = "insight"

urlpatterns = [
    # Activity: the partner's, and a customer's (its managers, or a partner in manage mode).
    path("partner/activity/", views.partner_activity, name="partner_activity"),
    path("partner/activity/export.csv", views.partner_activity_export, name="partner_activity_export"),
    path("activity/", views.customer_activity, name="activity"),
    path("activity/export.csv", views.customer_activity_export, name="activity_export"),
    # The exports of the customer's and the partner's lists.
    path("learners/export.csv", views.learners_export, name="learners_export"),
    path("licences/orders/export.csv", views.orders_export, name="orders_export"),
    path("licences/allocations/export.csv", views.allocation_history_export, name="allocation_history_export"),
    path("partner/licences/orders/export.csv", views.partner_orders_export, name="partner_orders_export"),
]
