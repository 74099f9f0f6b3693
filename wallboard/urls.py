"""Top-level URL configuration."""

from django.contrib import admin
from django.urls import include, path

from wallboard.ops import views as ops_views

urlpatterns = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("wallboard.alerts.urls")),
    path("", include("wallboard.campaigns.urls")),
    path("", include("wallboard.boards.urls")),
]
