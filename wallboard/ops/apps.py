from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "wallboard.ops"
    label = "ops"

    def ready(self) -> None:
        # Importing the module registers the deployment checks (manage.py check --deploy): in
        # ready(), because they read models, which exist only once every app is loaded.
        from wallboard.ops import checks  # noqa: F401
