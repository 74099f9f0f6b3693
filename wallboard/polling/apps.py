from django.apps import AppConfig


class PollingConfig(AppConfig):
    name = "wallboard.polling"
    label = "polling"

    def ready(self) -> None:
        # Connect the model signals and the worker processes' collector settings; and hand the
        # tenant lock down to live, where announcements and campaign actions republish boards
        # between polls under it.
        from wallboard.live.republish import use_tenant_lock
        from wallboard.polling import collector, signals  # noqa: F401
        from wallboard.polling.lock import TenantLock

        use_tenant_lock(lambda tenant_id, wait: TenantLock(tenant_id, ttl_seconds=10, wait_seconds=wait))
