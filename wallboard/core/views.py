"""Operational endpoints."""

from __future__ import annotations

from django.http import JsonResponse

import wallboard
from wallboard.boards.models import Tenant


def _iso(value):
    return value.isoformat() if value else None


def healthz(request):
    """Answer JSON with the version and each tenant's polling state.

    Load balancers and the run command probe this; it reads the database only, never 8x8.
    """
    tenants = []
    for tenant in Tenant.objects.select_related("health").order_by("pk"):
        health = getattr(tenant, "health", None)
        tenants.append(
            {
                "id": tenant.pk,
                "name": tenant.name,
                "enabled": tenant.enabled,
                "state": health.state if health else "pending",
                "since": _iso(health.since) if health else None,
                "last_success": _iso(health.last_success) if health else None,
                "last_error_kind": (health.last_error_kind or None) if health else None,
                "consecutive_failures": health.consecutive_failures if health else 0,
                "latency_ms": health.latency_ms if health else None,
                "schedules_refreshed": _iso(health.schedules_refreshed) if health else None,
                # Schedules where 8x8's /status disagreed with our evaluation (8x8's answer is used).
                "schedule_disagreements": (health.schedule_disagreements or {}) if health else {},
            }
        )
    return JsonResponse({"status": "ok", "version": wallboard.__version__, "tenants": tenants})
