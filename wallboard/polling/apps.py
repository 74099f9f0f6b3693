from django.apps import AppConfig


class PollingConfig(AppConfig):
    name = "wallboard.polling"
    label = "polling"

    def ready(self) -> None:
        # Connect the model signals and the worker processes' collector settings.
        from wallboard.polling import collector, signals  # noqa: F401
