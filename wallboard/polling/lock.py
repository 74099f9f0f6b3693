"""A Redis lock per tenant so no two polls of one tenant ever overlap, across all workers.

SET NX with a TTL (a crashed worker cannot hold it forever), released only by its owner: a
poll that overran its TTL must not delete the lock a newer poll now holds (live/redis_lock.py).
"""

from __future__ import annotations

from wallboard.live.redis_lock import RedisLock
from wallboard.polling.keys import lock_key


class TenantLock(RedisLock):
    """`with TenantLock(tenant_id, ttl) as held:` — `held` is False when another poll has it."""

    def __init__(self, tenant_id: int, ttl_seconds: float, wait_seconds: float = 0.0):
        super().__init__(lock_key(tenant_id), ttl_seconds, wait_seconds)
