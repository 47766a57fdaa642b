from django.urls import path, register_converter

from common.converters import TokenConverter
from learners.views import expired, expiring, imports, portal, roster

register_converter(TokenConverter, "token")

app_name = "learners"

urlpatterns = [
    # The Learners section.
    path("learners/", roster.learner_list, name="list"),
    path("learners/add/", roster.add_learner, name="add"),
    path("learners/<int:learner_id>/deactivate/", roster.deactivate_learner, name="deactivate"),
    path("learners/<int:learner_id>/allocate/", roster.allocate_licence, name="allocate"),
    path("learners/import/", imports.import_learners, name="import_learners"),
    path("learners/import/<token:token>/", imports.import_learners_columns, name="import_learners_columns"),
    path("imports/<token:token>/", imports.import_learners_status, name="import_learners_status"),
    path("imports/<token:token>/progress/", imports.import_learners_progress, name="import_learners_progress"),
    # Licences → Expired Licences, and its Import Allocation.
    path("licences/expired/", expired.expired, name="expired"),
    path("licences/expired/renew/", expired.renew_expired, name="renew_expired"),
    path("licences/expired/import-allocation/", expired.import_allocation, name="import_allocation"),
    path(
        "licences/expired/import-allocation/<token:token>/",
        expired.import_allocation_review,
        name="import_allocation_review",
    ),
    path(
        "licences/expired/import-allocation/<token:token>/not-renewed.csv",
        expired.import_allocation_report,
        name="import_allocation_report",
    ),
    path(
        "licences/expired/import-allocation/<token:token>/renew/",
        expired.import_allocation_renew,
        name="import_allocation_renew",
    ),
    path(
        "licences/expired/import-allocation/<token:token>/status/",
        expired.import_allocation_status,
        name="import_allocation_status",
    ),
    path(
        "licences/expired/import-allocation/<token:token>/progress/",
        expired.import_allocation_progress,
        name="import_allocation_progress",
    ),
    # Licences → Expiring Soon: Renew Early, its Import Allocation, carry-over at expiry.
    path("licences/expiring/", expiring.expiring, name="expiring"),
    path("licences/expiring/renew-early/", expiring.renew_early, name="renew_early"),
    path("licences/expiring/carry-over/", expiring.carry_over_setting, name="carry_over"),
    path("licences/expiring/import-allocation/", expiring.renew_early_import, name="renew_early_import"),
    path(
        "licences/expiring/import-allocation/<token:token>/",
        expiring.renew_early_import_review,
        name="renew_early_import_review",
    ),
    path(
        "licences/expiring/import-allocation/<token:token>/not-renewed.csv",
        expiring.renew_early_import_report,
        name="renew_early_import_report",
    ),
    path(
        "licences/expiring/import-allocation/<token:token>/renew/",
        expiring.renew_early_import_renew,
        name="renew_early_import_renew",
    ),
    path(
        "licences/expiring/import-allocation/<token:token>/status/",
        expiring.renew_early_import_status,
        name="renew_early_import_status",
    ),
    path(
        "licences/expiring/import-allocation/<token:token>/progress/",
        expiring.renew_early_import_progress,
        name="renew_early_import_progress",
    ),
    # The learner portal.
    path("learn/", portal.portal, name="portal"),
]
