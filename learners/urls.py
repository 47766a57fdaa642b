from django.urls import path

from learners import views

app_name = "learners"

urlpatterns = [
    path("learners/", views.learner_list, name="list"),
    path("learn/", views.portal, name="portal"),
]
