"""When each tenant is polled: claiming due polls and refreshes, holding a tenant back, retries.

The beat's tick claims what is due (from the due sets, wallboard.polling.due); everything else
here moves a tenant's next poll or refresh (a slow retry, "poll now" after an admin change) or
holds all calls to it back while an abandoned request may still be running at 8x8.
"""

from __future__ import annotations

import time

from django.conf import settings

from wallboard.boards.models import Tenant
from wallboard.live.redis import get_redis
from wallboard.polling import due as due_sets
from wallboard.polling.keys import hold_key, phase_key, reconcile_key

# How often one tick (whichever claims it) compares the due sets with the database: a tenant
# enabled or disabled without a save signal (a bulk update, a missed Redis write) is picked up
# within this time. The only part of ticking that reads every tenant.
RECONCILE_SECONDS = 60


def claim_due_polls(horizon_seconds: float | None = None) -> list[tuple[int, float]]:
    """Return (tenant id, when to poll) for every enabled tenant due within the horizon."""
    return [(tenant_id, eta) for tenant_id, eta, _ in claim_polls(horizon_seconds)]


def claim_polls(horizon_seconds: float | None = None) -> list[tuple[int, float, int]]:
    """Return (tenant id, when to poll, poll interval) for every tenant due within the horizon.

    The beat ticks every second; a poll due within the next tick is claimed now and run at
    its exact time (a Celery eta), so phase-locking to the upstream refresh is not limited
    to whole seconds. A missed cycle (outage) is not replayed: the next poll is due now.
    Reads only the due tenants (wallboard.polling.due), atomically: two beats never claim
    the same poll.
    """
    now = time.time()
    horizon = now + (settings.WALLBOARD_TICK_SECONDS if horizon_seconds is None else horizon_seconds)
    return _claim(due_sets.POLLS, now, horizon, 10)


def claim_due_schedule_refreshes() -> list[int]:
    """Return the enabled tenants whose schedules should be refreshed now."""
    now = time.time()
    return [tenant_id for tenant_id, _, _ in _claim(due_sets.SCHEDULES, now, now, 300)]


def _claim(which: str, now: float, horizon: float, default: int) -> list[tuple[int, float, int]]:
    claimed = due_sets.claim(which, now, horizon, default)
    if claimed is None:  # Redis lost the sets (restart, flush): rebuild them from the database
        get_redis().set(reconcile_key(), "1", ex=RECONCILE_SECONDS)
        rebuild_due_sets()
        claimed = due_sets.claim(which, now, horizon, default) or []
    elif get_redis().set(reconcile_key(), "1", nx=True, ex=RECONCILE_SECONDS):
        rebuild_due_sets()
    return claimed


def rebuild_due_sets() -> None:
    """Make the due sets hold exactly the enabled tenants, keeping the times of those in them."""
    # Members first, then the database: a tenant created in between is in the database read,
    # so it is never taken for a stale member.
    members = due_sets.members()
    enabled = {
        pk: (poll, schedules)
        for pk, poll, schedules in Tenant.objects.filter(enabled=True).values_list(
            "pk", "poll_interval", "schedule_refresh_interval"
        )
    }
    due_sets.rebuild(enabled, members, time.time())


def track_tenant(tenant: Tenant) -> None:
    """A saved tenant: enabled, it is due for a poll and a schedule refresh now; else forgotten."""
    get_redis().delete(phase_key(tenant.pk))
    if tenant.enabled:
        due_sets.track(tenant.pk, tenant.poll_interval, tenant.schedule_refresh_interval, time.time())
    else:
        due_sets.forget([tenant.pk])


def forget_tenant(tenant_id: int) -> None:
    """A deleted or disabled tenant: no tick claims it again."""
    due_sets.forget([tenant_id])


def retry_schedules_after(tenant_id: int, seconds: float) -> None:
    """Hold the next schedule refresh back for `seconds`."""
    due_sets.move(due_sets.SCHEDULES, tenant_id, time.time() + max(0.001, seconds))


def poll_after(tenant_id: int, seconds: float) -> None:
    """Set the next poll `seconds` from now (a slow retry, or the phase lock's choice)."""
    due_sets.move(due_sets.POLLS, tenant_id, time.time() + seconds)


def poll_now(tenant_id: int) -> None:
    """Make the tenant due at the next tick (its settings changed: try the new token now)."""
    get_redis().delete(phase_key(tenant_id))
    now = time.time()
    due_sets.move(due_sets.POLLS, tenant_id, now)
    due_sets.move(due_sets.SCHEDULES, tenant_id, now)


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
