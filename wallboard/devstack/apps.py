from django.apps import AppConfig


class DevstackConfig(AppConfig):
    """Installed only so Django finds the `runstack` and `setup_demo` commands: no models."""

    name = "wallboard.devstack"
    label = "devstack"
