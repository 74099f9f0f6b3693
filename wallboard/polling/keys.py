"""Every per-tenant Redis key (`wb:tenant:<id>:…`) the poller keeps, named in one place.

One place so nobody can make two modules disagree about a key, and so `redis-cli --scan
--pattern 'wb:tenant:*'` has one module to explain it. Board state keys (`wb:board:…`) belong
to wallboard.live.store.
"""

from __future__ import annotations


def _key(tenant_id: int, name: str) -> str:
    return f"wb:tenant:{tenant_id}:{name}"


def next_key(tenant_id: int) -> str:
    """When the tenant's next poll is due (epoch seconds); absent means now."""
    return _key(tenant_id, "next")


def phase_key(tenant_id: int) -> str:
    """The phase lock's mode and memory (a hash; see wallboard.polling.phase)."""
    return _key(tenant_id, "phase")


def hold_key(tenant_id: int) -> str:
    """Until when (epoch seconds) nothing may be sent to the tenant (see dispatch.hold_upstream)."""
    return _key(tenant_id, "hold")


def lock_key(tenant_id: int) -> str:
    """The tenant lock: held by whoever is calling 8x8 for the tenant (see polling.lock)."""
    return _key(tenant_id, "lock")


def schedules_due_key(tenant_id: int) -> str:
    """Present (with a TTL) while the tenant's next schedule refresh is not yet due."""
    return _key(tenant_id, "schedules-due")


def schedules_key(tenant_id: int) -> str:
    """The schedule definitions of the last refresh (JSON, by schedule id)."""
    return _key(tenant_id, "schedules")


def overrides_key(tenant_id: int) -> str:
    """8x8's /status answers that disagreed with our evaluation at the last refresh (JSON)."""
    return _key(tenant_id, "schedule-overrides")


def catalogue_key(tenant_id: int) -> str:
    """What the tenant has (queues, agent groups, schedules) for admin forms (JSON)."""
    return _key(tenant_id, "catalogue")
