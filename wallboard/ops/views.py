"""Operational endpoints."""

from __future__ import annotations

import hmac
from collections import Counter

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from redis.backoff import NoBackoff
from redis.retry import Retry

import wallboard
from wallboard.boards.crypto import unreadable_fields
from wallboard.boards.models import Tenant
from wallboard.polling.clients import unreadable_credentials
from wallboard.vcc.records import iso_utc

# Load balancers give up on a probe after a second or two: a dead Redis must be reported
# well inside that, not after redis-py's default 5 s timeout and three retries.
PING_TIMEOUT = 0.5

FAILING_STATES = {"degraded", "busy", "unauthorised", "unreachable", "malformed", "unreadable_secret"}


def _why(exc: Exception) -> str:
    """An exception as one line for the detailed answer."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _redis_url(url: str) -> str:
    """The redis-py spelling of a Celery broker URL (Celery writes unix sockets as redis+socket://)."""
    prefix = "redis+socket://"
    return "unix://" + url[len(prefix):] if url.startswith(prefix) else url


def _channel_layer_url() -> str | None:
    """The Redis the default channel layer talks to, or None for a layer without one."""
    hosts = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("hosts") or [None]
    host = hosts[0]
    if isinstance(host, dict):
        host = host.get("address")
    return host if isinstance(host, str) else None


def _ping(url: str | None) -> str | None:
    """None when the Redis at `url` answers PING, else why it did not."""
    if url is None:
        return None
    client = redis.Redis.from_url(
        url, socket_timeout=PING_TIMEOUT, socket_connect_timeout=PING_TIMEOUT, retry=Retry(NoBackoff(), 0)
    )
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        return _why(exc)
    finally:
        client.close()
    return None


def _database_error() -> str | None:
    """None when the database answers a trivial query, else why it did not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return _why(exc)
    return None


def _component_errors() -> dict[str, str | None]:
    """Each component the web process needs, with None when it is up or why it is down.

    In this project the broker and the channel layer are usually the same Redis: it is
    pinged once.
    """
    pings: dict[str | None, str | None] = {}
    urls = {"broker": _redis_url(settings.CELERY_BROKER_URL), "channel_layer": _channel_layer_url()}
    for url in urls.values():
        if url not in pings:
            pings[url] = _ping(url)
    return {"database": _database_error(), **{name: pings[url] for name, url in urls.items()}}


def _bearer_token(request: HttpRequest) -> str | None:
    """The token of an `Authorization: Bearer` header, or None without one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _holds_token(request: HttpRequest) -> bool:
    """True when the request carries HEALTHZ_TOKEN (the header wins over `?token=`)."""
    expected = settings.HEALTHZ_TOKEN
    if not expected:
        return False
    given = _bearer_token(request)
    if given is None:
        given = request.GET.get("token", "")
    return hmac.compare_digest(given.encode(), expected.encode())


def _is_staff(request: HttpRequest) -> bool:
    """True for an active staff session.

    Reading the session needs the database: when that is down, the caller is anonymous.
    """
    try:
        return request.user.is_active and request.user.is_staff
    except DatabaseError:
        return False


def _may_see_details(request: HttpRequest) -> bool:
    """Tenant names and errors are for staff and the monitoring system, not the internet."""
    return _holds_token(request) or _is_staff(request)


def _tenant_counts(rows: list[tuple[bool, str | None]]) -> dict[str, int]:
    """How many tenants poll fine, fail, wait for their first poll, or are switched off."""
    counts: Counter[str] = Counter()
    for enabled, state in rows:
        if not enabled or state == "disabled":
            counts["disabled"] += 1
        elif state in FAILING_STATES:
            counts["failing"] += 1
        elif state == "ok":
            counts["ok"] += 1
        else:
            counts["pending"] += 1
    return {"total": len(rows), **{key: counts[key] for key in ("ok", "failing", "pending", "disabled")}}


def _state(tenant: Tenant) -> str | None:
    """The tenant's health state; an enabled tenant whose credentials cannot be read says so at once.

    The poller records that state too, but only at its next cycle (or retry): a monitor
    asking right after a key change must not see "ok" from before it.
    """
    health = getattr(tenant, "health", None)
    if tenant.enabled and unreadable_credentials(tenant):
        return "unreadable_secret"
    return health.state if health else None


def _tenant_details(tenant: Tenant) -> dict[str, object]:
    """One tenant's polling state, as the admin list shows it."""
    health = getattr(tenant, "health", None)
    return {
        "id": tenant.pk,
        "name": tenant.name,
        "enabled": tenant.enabled,
        "state": _state(tenant) or "pending",
        # Names of stored secrets no configured key decrypts: they must be typed again in admin.
        "unreadable_secrets": unreadable_fields(tenant),
        "since": iso_utc(health.since) if health else None,
        "last_success": iso_utc(health.last_success) if health else None,
        "last_error_kind": (health.last_error_kind or None) if health else None,
        "consecutive_failures": health.consecutive_failures if health else 0,
        "latency_ms": health.latency_ms if health else None,
        "schedules_refreshed": iso_utc(health.schedules_refreshed) if health else None,
        # Schedules where 8x8's /status disagreed with our evaluation (8x8's answer is used).
        "schedule_disagreements": (health.schedule_disagreements or {}) if health else {},
    }


def _tenants(details: bool) -> dict[str, object]:
    """Tenant counts for everyone, and each tenant by name for those who may see it."""
    tenants = list(Tenant.objects.select_related("health").order_by("pk"))
    rows = [(tenant.enabled, _state(tenant)) for tenant in tenants]
    body: dict[str, object] = {"tenant_counts": _tenant_counts(rows)}
    if details:
        body["tenants"] = [_tenant_details(tenant) for tenant in tenants]
    return body


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer JSON with the state of the database, the broker and the channel layer; 503 if one is down.

    Load balancers and the run command probe this, so it is cheap: one trivial query, one
    Redis PING with a short timeout, never a call to 8x8. Without a staff session or the
    monitoring token (HEALTHZ_TOKEN) it says only up/down and counts: tenant names tell an
    outsider who the customers are.
    """
    errors = _component_errors()
    details = _may_see_details(request)
    tenants: dict[str, object] = {}
    if errors["database"] is None:
        try:
            tenants = _tenants(details)
        except DatabaseError as exc:  # went down between the two queries
            errors["database"] = _why(exc)
    up = all(error is None for error in errors.values())
    body: dict[str, object] = {
        "status": "ok" if up else "down",
        "components": {name: "down" if error else "up" for name, error in errors.items()},
    }
    if details:
        body["version"] = wallboard.__version__
        body["errors"] = {name: error for name, error in errors.items() if error}
    return JsonResponse({**body, **tenants}, status=200 if up else 503)
