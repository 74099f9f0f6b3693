"""A Redis lock across every process: SET NX with a TTL, released only by its owner.

The TTL means a crashed process cannot hold it forever; the owner check means a holder that
overran its TTL does not delete the lock a newer holder now has. The poller's tenant lock and
the campaigns' per-campaign lock are both this one primitive under their own keys.
"""

from __future__ import annotations

import secrets
import time

from wallboard.live.redis import get_redis

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class RedisLock:
    """`with RedisLock(key, ttl, wait) as held:` — `held` is False when another holder kept it for `wait` seconds."""

    def __init__(self, key: str, ttl_seconds: float, wait_seconds: float = 0.0):
        self.key = key
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
