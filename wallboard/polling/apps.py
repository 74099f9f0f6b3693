from django.apps import AppConfig


class PollingConfig(AppConfig):
    name = "wallboard.polling"
    label = "polling"
