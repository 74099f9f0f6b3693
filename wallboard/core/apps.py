from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "wallboard.core"
    label = "core"

    def ready(self) -> None:
        # Registers the project's deployment checks (manage.py check --deploy).
        from wallboard import checks  # noqa: F401
