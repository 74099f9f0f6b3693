"""A Redis lock per tenant so no two polls of one tenant ever overlap, across all workers.

SET NX with a TTL (a crashed worker cannot hold it forever), released only by its owner: a
poll that overran its TTL must not delete the lock a newer poll now holds.
"""

from __future__ import annotations

import secrets
import time

from wallboard.live.redis import get_redis
from wallboard.polling.keys import lock_key

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class TenantLock:
    """`with TenantLock(tenant_id, ttl) as held:` — `held` is False when another poll has it."""

    def __init__(self, tenant_id: int, ttl_seconds: float, wait_seconds: float = 0.0):
        self.key = lock_key(tenant_id)
        self.ttl_ms = max(1, int(ttl_seconds * 1000))
        self.wait_seconds = wait_seconds
        self.token = secrets.token_hex(8)
        self.held = False

    def acquire(self) -> bool:
        client = get_redis()
        deadline = time.monotonic() + self.wait_seconds
        while True:
            if client.set(self.key, self.token, nx=True, px=self.ttl_ms):
                self.held = True
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def release(self) -> None:
        if self.held:
            get_redis().eval(_RELEASE, 1, self.key, self.token)
            self.held = False

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
