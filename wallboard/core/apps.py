from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "wallboard.core"
    label = "core"
