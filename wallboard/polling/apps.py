from django.apps import AppConfig


class PollingConfig(AppConfig):
    name = "wallboard.polling"
    label = "polling"

    def ready(self) -> None:
        # Connect the model signals and the worker processes' collector settings; and hand the
        # tenant lock to announcements, which republish boards between polls under it.
        from wallboard.alerts.announcements import use_tenant_lock
        from wallboard.polling import collector, signals  # noqa: F401
        from wallboard.polling.lock import TenantLock

        use_tenant_lock(lambda tenant_id, wait: TenantLock(tenant_id, ttl_seconds=10, wait_seconds=wait))
        # Campaign actions republish boards between polls the same way.
        from wallboard.campaigns.publish import use_tenant_lock as campaigns_use_tenant_lock

        campaigns_use_tenant_lock(lambda tenant_id, wait: TenantLock(tenant_id, ttl_seconds=10, wait_seconds=wait))
