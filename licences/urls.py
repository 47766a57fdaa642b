from django.urls import path

from licences.views import companies, orders, renewal

app_name = "licences"

urlpatterns = [
    # Customer side: a customer manager, or a partner manager in manage mode.
    path("licences/", orders.overview, name="overview"),
    path("licences/orders/", orders.orders, name="orders"),
    path("licences/orders/request/", orders.request_licences, name="request_licences"),
    path("licences/renewal/", renewal.renewal, name="renewal"),
    # Partner side.
    path("partner/companies/", companies.companies, name="companies"),
    path("partner/licences/orders/", orders.partner_orders, name="partner_orders"),
    path("partner/licences/orders/assign/", orders.assign, name="assign_order"),
    path("partner/licences/orders/cancel/", orders.cancel, name="cancel_order"),
]
