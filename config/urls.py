from django.contrib import admin
from django.urls import include, path

from notifications.views import local_outbox

urlpatterns = [
    # First: an API request resolves without trying every page's pattern (the API's
    # own paths all start with api/, so no page's is shadowed).
    path("", include("api.urls")),
    path("", include("accounts.urls")),
    path("partner/", include("partners.urls")),
    path("", include("licences.urls")),
    path("", include("learners.urls")),
    path("", include("notifications.urls")),
    path("", include("insight.urls")),
    path("partner/api/", include("api.page_urls")),
    path("outbox/", local_outbox, name="local_outbox"),
    path("admin/", admin.site.urls),
]

handler403 = "customers.views.permission_denied"
handler400 = "common.views.bad_request"
