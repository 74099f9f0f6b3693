from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "wallboard.ops"
    label = "ops"

    def ready(self) -> None:
        # Registers the deployment checks (manage.py check --deploy).
        from wallboard.ops import checks  # noqa: F401
