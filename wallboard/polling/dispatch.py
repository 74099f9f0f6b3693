"""When each tenant is polled: claiming due polls and refreshes, holding a tenant back, retries.

The beat's tick claims what is due; everything else here moves a tenant's next poll or
refresh (a slow retry, "poll now" after an admin change) or holds all calls to it back while
an abandoned request may still be running at 8x8.
"""

from __future__ import annotations

import time

from django.conf import settings

from wallboard.boards.models import Tenant
from wallboard.live.redis import get_redis
from wallboard.polling.keys import hold_key, next_key, phase_key, schedules_due_key

# Atomically: if the tenant is due before `horizon`, move its next poll one interval on and
# return when this one should run. Two overlapping ticks can never enqueue the same poll.
_CLAIM = """
local raw = redis.call('get', KEYS[1])
local now = tonumber(ARGV[1])
local due = now
if raw then due = tonumber(raw) end
if due > tonumber(ARGV[2]) then return false end
local eta = math.max(due, now)
redis.call('set', KEYS[1], string.format('%.3f', eta + tonumber(ARGV[3])))
return string.format('%.3f', eta)
"""


def claim_due_polls(horizon_seconds: float | None = None) -> list[tuple[int, float]]:
    """Return (tenant id, when to poll) for every enabled tenant due within the horizon.

    The beat ticks every second; a poll due within the next tick is claimed now and run at
    its exact time (a Celery eta), so phase-locking to the upstream refresh is not limited
    to whole seconds. A missed cycle (outage) is not replayed: the next poll is due now.
    """
    client = get_redis()
    now = time.time()
    horizon = now + (settings.WALLBOARD_TICK_SECONDS if horizon_seconds is None else horizon_seconds)
    due = []
    for tenant_id, interval in Tenant.objects.filter(enabled=True).values_list("pk", "poll_interval"):
        eta = client.eval(_CLAIM, 1, next_key(tenant_id), f"{now:.3f}", f"{horizon:.3f}", interval)
        if eta is not None:
            due.append((tenant_id, float(eta)))
    return due


def claim_due_schedule_refreshes() -> list[int]:
    """Return the enabled tenants whose schedules should be refreshed now."""
    client = get_redis()
    due = []
    for tenant_id, interval in Tenant.objects.filter(enabled=True).values_list("pk", "schedule_refresh_interval"):
        if client.set(schedules_due_key(tenant_id), "1", nx=True, px=interval * 1000):
            due.append(tenant_id)
    return due


def poll_intervals(tenant_ids: list[int]) -> dict[int, int]:
    """Each tenant's poll interval (seconds), for the expiry of its poll task."""
    return dict(Tenant.objects.filter(pk__in=tenant_ids).values_list("pk", "poll_interval"))


def retry_schedules_after(tenant_id: int, seconds: float) -> None:
    """Hold the next schedule refresh back for `seconds`."""
    get_redis().set(schedules_due_key(tenant_id), "backoff", px=max(1, int(seconds * 1000)))


def poll_after(tenant_id: int, seconds: float) -> None:
    """Set the next poll `seconds` from now (a slow retry, or the phase lock's choice)."""
    get_redis().set(next_key(tenant_id), f"{time.time() + seconds:.3f}")


def poll_now(tenant_id: int) -> None:
    """Make the tenant due at the next tick (its settings changed: try the new token now)."""
    get_redis().delete(next_key(tenant_id), schedules_due_key(tenant_id), phase_key(tenant_id))


def hold_upstream(tenant_id: int, seconds: float | None = None) -> float:
    """Send nothing to the tenant for a while after giving up on a request; return until when.

    A request we stopped waiting for (read timeout, time limit) is still being worked on at
    8x8, which answers 503 to any other request of the tenant until it is done. Sending the
    next one while it is would be a second request in flight, so polls in the meantime only
    repeat the last state (an empty patch, so screens know we are alive) without calling 8x8.
    """
    hold = settings.WALLBOARD_ABANDONED_HOLD if seconds is None else seconds
    until = time.time() + hold
    get_redis().set(hold_key(tenant_id), f"{until:.3f}", px=max(1, int(hold * 1000)))
    return until


def upstream_held(tenant_id: int) -> bool:
    """True while an abandoned request may still be in flight at 8x8."""
    raw = get_redis().get(hold_key(tenant_id))
    return raw is not None and float(raw) > time.time()


def lock_ttl(tenant: Tenant) -> float:
    """Long enough for two upstream calls, short enough that a crashed poll frees the tenant."""
    return max(float(tenant.poll_interval), 2 * (settings.VCC_CONNECT_TIMEOUT + settings.VCC_READ_TIMEOUT) + 2)
