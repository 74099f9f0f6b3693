"""Every Redis key the poller keeps (`wb:tenant:<id>:…`, and the due sets `wb:due:…`), in one place.

One place so nobody can make two modules disagree about a key, and so `redis-cli --scan
--pattern 'wb:tenant:*'` has one module to explain it. Board state keys (`wb:board:…`) belong
to wallboard.live.store. Before the due sets each tenant had `wb:tenant:<id>:next` and
`…:schedules-due`; nothing reads them now (left from an older version, they can be deleted).
"""

from __future__ import annotations


def _key(tenant_id: int, name: str) -> str:
    return f"wb:tenant:{tenant_id}:{name}"


def phase_key(tenant_id: int) -> str:
    """The phase lock's mode and memory (a hash; see wallboard.polling.phase)."""
    return _key(tenant_id, "phase")


def hold_key(tenant_id: int) -> str:
    """Until when (epoch seconds) nothing may be sent to the tenant (see dispatch.hold_upstream)."""
    return _key(tenant_id, "hold")


def lock_key(tenant_id: int) -> str:
    """The tenant lock: held by whoever is calling 8x8 for the tenant (see polling.lock)."""
    return _key(tenant_id, "lock")


def schedules_key(tenant_id: int) -> str:
    """The schedule definitions of the last refresh (JSON, by schedule id)."""
    return _key(tenant_id, "schedules")


def overrides_key(tenant_id: int) -> str:
    """8x8's /status answers that disagreed with our evaluation at the last refresh (JSON)."""
    return _key(tenant_id, "schedule-overrides")


def catalogue_key(tenant_id: int) -> str:
    """What the tenant has (queues, agent groups, schedules) for admin forms (JSON)."""
    return _key(tenant_id, "catalogue")


# The due sets (wallboard.polling.due): one of each for all tenants, so a tick reads only what
# is due instead of one key per tenant.


def polls_due_key() -> str:
    """Sorted set: tenant id -> when its next poll is due (epoch seconds)."""
    return "wb:due:polls"


def schedules_due_set_key() -> str:
    """Sorted set: tenant id -> when its next schedule refresh is due (epoch seconds)."""
    return "wb:due:schedules"


def intervals_key() -> str:
    """Hash: "<tenant id>:poll" and "<tenant id>:schedules" -> interval (seconds), for claims."""
    return "wb:due:intervals"


def reconcile_key() -> str:
    """Present (with a TTL) while the due sets need no comparison with the database."""
    return "wb:due:reconciled"


def contactnow_due_key() -> str:
    """Sorted set: ContactNow account id -> when its next policy refresh is due (epoch seconds)."""
    return "wb:due:contactnow"


def contactnow_reconcile_key() -> str:
    """Present (with a TTL) while the ContactNow due set needs no comparison with the database."""
    return "wb:due:contactnow-reconciled"
