"""Alerts beyond the screen (Apprise channels, rules, deliveries) and announcements."""
import django_stubs_ext
from django.apps import AppConfig

# Admin classes and forms here are typed generics (ModelAdmin[Model]); Django's own classes
# are not subscriptable at run time until django-stubs-ext says so.
django_stubs_ext.monkeypatch()


class AlertsConfig(AppConfig):
    name = "wallboard.alerts"
    label = "alerts"
    verbose_name = "Alerts and announcements"
