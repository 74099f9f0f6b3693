from django.apps import AppConfig


class VccConfig(AppConfig):
    name = "wallboard.vcc"
    label = "vcc"
