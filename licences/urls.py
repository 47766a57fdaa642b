from django.urls import path

from licences.views import orders, renewals

app_name = "licences"

urlpatterns = [
    # Customer side: a customer manager, or a partner manager in manage mode.
    path("licences/", orders.overview, name="overview"),
    path("licences/orders/", orders.orders, name="orders"),
    path("licences/orders/request/", orders.request_licences, name="request_licences"),
    path("licences/expired/", renewals.expired, name="expired"),
    path("licences/expired/allocate/", renewals.allocate, name="allocate"),
    path("licences/expired/import/", renewals.import_allocation, name="import_allocation"),
    path("licences/expired/import/<str:token>/", renewals.import_review, name="import_review"),
    path("licences/expired/import/<str:token>/not-renewed.csv", renewals.import_report, name="import_report"),
    path("licences/expired/import/<str:token>/renew/", renewals.import_renew, name="import_renew"),
    path("licences/expired/import/<str:token>/status/", renewals.import_status, name="import_status"),
    path("licences/expired/import/<str:token>/progress/", renewals.import_progress, name="import_progress"),
    path("licences/renewal/", renewals.renewal, name="renewal"),
    # Partner side.
    path("partner/licences/orders/", orders.partner_orders, name="partner_orders"),
    path("partner/licences/orders/assign/", orders.assign, name="assign_order"),
    path("partner/licences/orders/cancel/", orders.cancel, name="cancel_order"),
]
