"""The API under /api/ (the v1 endpoints, their OpenAPI document and /api/docs)."""

from django.urls import path, re_path

from api import views
from api.problems import not_found
from api.v1 import api


def no_such_endpoint(request, *args, **kwargs):
    return not_found("No such API endpoint.")


urlpatterns = [
    path("api/", api.urls),
    # Local development only (LOCAL_OUTBOX_ENABLED): the demo endpoint's receiver.
    path("api/local-webhook-receiver/", views.local_webhook_receiver, name="local_webhook_receiver"),
    # Anything else under /api/ is a problem+json 404, not the site's HTML page.
    re_path(r"^api/", no_such_endpoint),
]
