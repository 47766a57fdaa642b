from django.urls import path

from partners import views

app_name = "partners"

urlpatterns = [
    path("companies/<int:customer_id>/manage/", views.manage_company, name="manage_company"),
    path("manage/exit/", views.exit_manage_mode, name="exit_manage_mode"),
    path("customers/lookup/", views.customer_lookup, name="customer_lookup"),
    path("security/", views.two_factor_requirement, name="two_factor_requirement"),
    path("time-zone/", views.partner_time_zone, name="time_zone"),
]
