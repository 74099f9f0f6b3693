"""Top-level URL configuration."""

from django.contrib import admin
from django.urls import include, path

from wallboard.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("wallboard.boards.urls")),
]
