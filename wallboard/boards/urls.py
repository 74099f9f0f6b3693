"""Board pages: kiosk, supervisor views."""

from django.urls import path, re_path

from wallboard.boards import views

app_name = "boards"

urlpatterns = [
    path("", views.index, name="index"),
    path("boards/<slug:slug>/", views.supervisor, name="supervisor"),
    # Tolerates a trailing slash so a mistyped link never reaches the 404 logger with its token.
    re_path(r"^d/(?P<token>[^/]+)/?$", views.display_exchange, name="display"),
    path("kiosk/", views.kiosk, name="kiosk"),
    path("kiosk/<slug:slug>/", views.kiosk_preview, name="kiosk_preview"),
]
