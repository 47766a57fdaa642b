"""The partner dashboard's API page: tokens and webhooks."""

from django.urls import path

from api import views

app_name = "api_page"

urlpatterns = [
    path("", views.api_page, name="index"),
    path("tokens/", views.create_token, name="create_token"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke_token"),
    path("webhooks/", views.add_endpoint, name="add_endpoint"),
    path("webhooks/<int:endpoint_id>/", views.endpoint, name="endpoint"),
    path("webhooks/<int:endpoint_id>/change/", views.change_endpoint, name="change_endpoint"),
    path("webhooks/<int:endpoint_id>/remove/", views.remove_endpoint, name="remove_endpoint"),
    path("webhooks/<int:endpoint_id>/disable/", views.disable_endpoint, name="disable_endpoint"),
    path("webhooks/<int:endpoint_id>/enable/", views.enable_endpoint, name="enable_endpoint"),
    path("webhooks/deliveries/<int:delivery_id>/redeliver/", views.redeliver, name="redeliver"),
]
