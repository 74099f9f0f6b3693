"""A Redis lock per campaign: one action at a time on a campaign, across every web process.

Two supervisors pressing Pause and Run at once must end with 8x8 and the wallboard agreeing;
with the calls one after the other, the later press wins on both sides. A database row lock
cannot do it alone: the 8x8 call in the middle may take seconds, longer than a row should stay
locked (SQLite would lock the whole database). SET NX with a TTL, released only by its owner.
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


def lock_key(campaign_pk: int) -> str:
    return f"wb:campaign:{campaign_pk}:lock"


class CampaignLock:
    """`with CampaignLock(pk, ttl, wait) as held:` — `held` is False when another action kept it."""

    def __init__(self, campaign_pk: int, ttl_seconds: float, wait_seconds: float):
        self.key = lock_key(campaign_pk)
        self.ttl_ms = max(1, int(ttl_seconds * 1000))
        self.wait_seconds = wait_seconds
        self.token = secrets.token_hex(8)
        self.held = False

    def __enter__(self) -> bool:
        client = get_redis()
        deadline = time.monotonic() + self.wait_seconds
        while not client.set(self.key, self.token, nx=True, px=self.ttl_ms):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        self.held = True
        return True

    def __exit__(self, *exc: object) -> None:
        if self.held:
            get_redis().eval(_RELEASE, 1, self.key, self.token)
            self.held = False
