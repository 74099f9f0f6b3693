"""Alerts beyond the screen (Apprise channels, rules, deliveries) and announcements."""
from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "wallboard.alerts"
    label = "alerts"
    verbose_name = "Alerts and announcements"
