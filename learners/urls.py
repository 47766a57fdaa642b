from django.urls import path

from learners import views

app_name = "learners"

urlpatterns = [
    path("learners/", views.learner_list, name="list"),
    path("learners/add/", views.add_learner, name="add"),
    path("learners/<int:learner_id>/deactivate/", views.deactivate_learner, name="deactivate"),
    path("learners/<int:learner_id>/allocate/", views.allocate_licence, name="allocate"),
    path("learners/import/", views.import_learners, name="import"),
    path("learners/import/<str:token>/", views.import_columns, name="import_columns"),
    path("imports/<str:token>/", views.upload_status, name="upload_status"),
    path("imports/<str:token>/progress/", views.upload_progress, name="upload_progress"),
    path("learn/", views.portal, name="portal"),
]
