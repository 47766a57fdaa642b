from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("partner/expiring/", views.upcoming_expiries, name="upcoming_expiries"),
]
