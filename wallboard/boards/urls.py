"""Board pages: kiosk, supervisor views."""

urlpatterns: list = []
