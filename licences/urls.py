from django.urls import path

from licences.views import orders, renewals

app_name = "licences"

urlpatterns = [
    # Customer side: a customer manager, or a partner manager in manage mode.
    path("licences/", orders.overview, name="overview"),
    path("licences/orders/", orders.orders, name="orders"),
    path("licences/expired/", renewals.expired, name="expired"),
    # Partner side.
    path("partner/licences/orders/", orders.partner_orders, name="partner_orders"),
]
