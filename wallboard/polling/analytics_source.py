"""A tenant on the Analytics for Contact Center API (v5): its client, built from the tenant's settings.

Agents and queues come from Analytics with the token shared in Redis (analytics_tokens);
schedules still come from the Tenant Schedule API, so the tenant keeps its platform URL, tenant
name and data request token. Everything above the client sees the same records as before.
"""

from __future__ import annotations

from django.conf import settings

from wallboard.boards.models import Tenant
from wallboard.polling.analytics_tokens import RedisTokenStore
from wallboard.vcc.analytics import AnalyticsClient, AnalyticsSource
from wallboard.vcc.client import VccClient

TenantClient = VccClient | AnalyticsSource
SECRETS = ("analytics_client_secret",)


def uses_analytics(tenant: Tenant) -> bool:
    return tenant.source == "analytics"


def fingerprint_parts(tenant: Tenant) -> list[str]:
    """What must give a fresh client when it changes in admin."""
    if not uses_analytics(tenant):
        return ["statistics"]
    return [
        "analytics", tenant.analytics_client_id, tenant.analytics_client_secret, tenant.analytics_region,
        tenant.analytics_tenant_info, tenant.analytics_base_url,
    ]


def with_analytics(tenant: Tenant, classic: VccClient) -> TenantClient:
    """The classic client as it is, or agents and queues from Analytics beside it."""
    if not uses_analytics(tenant):
        return classic
    analytics = AnalyticsClient(
        tenant.analytics_client_id,
        tenant.analytics_client_secret,
        region=tenant.analytics_region,
        tenant_info=tenant.analytics_tenant_info,
        base_url=tenant.analytics_base_url or None,
        token_store=RedisTokenStore(),
        connect_timeout=settings.VCC_CONNECT_TIMEOUT,
        read_timeout=settings.VCC_READ_TIMEOUT,
        max_bytes=settings.VCC_MAX_BODY_BYTES,
    )
    return AnalyticsSource(analytics, classic)


def source_label(tenant: Tenant) -> str:
    """How the admin's messages name where the statistics came from."""
    if not uses_analytics(tenant):
        return "statistics API"
    return f"Analytics API, region {tenant.analytics_region.upper()}"
