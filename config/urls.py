from django.contrib import admin
from django.urls import include, path

from notifications.views import local_outbox

urlpatterns = [
    path("", include("accounts.urls")),
    path("partner/", include("partners.urls")),
    path("", include("licences.urls")),
    path("", include("learners.urls")),
    path("", include("notifications.urls")),
    path("", include("api.urls")),
    path("", include("insight.urls")),
    path("partner/api/", include("api.page_urls")),
    path("outbox/", local_outbox, name="local_outbox"),
    path("admin/", admin.site.urls),
]

handler403 = "customers.views.permission_denied"
handler400 = "common.views.bad_request"
