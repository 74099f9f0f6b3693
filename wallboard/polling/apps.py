from django.apps import AppConfig


class PollingConfig(AppConfig):
    name = "wallboard.polling"
    label = "polling"

    def ready(self) -> None:
        from wallboard.polling import signals  # noqa: F401
