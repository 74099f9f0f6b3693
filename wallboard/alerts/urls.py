"""Supervisor pages of the alerts app."""

from django.urls import path

from wallboard.alerts import views

app_name = "alerts"

urlpatterns = [
    path("boards/<slug:slug>/announce/", views.announce, name="announce"),
    path("boards/<slug:slug>/announce/<int:pk>/end/", views.end_announcement, name="end_announcement"),
]
