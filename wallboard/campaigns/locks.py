"""A Redis lock per campaign: one action at a time on a campaign, across every web process.

Two supervisors pressing Pause and Run at once must end with 8x8 and the wallboard agreeing;
with the calls one after the other, the later press wins on both sides. A database row lock
cannot do it alone: the 8x8 call in the middle may take seconds, longer than a row should stay
locked (SQLite would lock the whole database). SET NX with a TTL, released only by its owner (live/redis_lock.py).
"""

from __future__ import annotations

from wallboard.live.redis_lock import RedisLock


def lock_key(campaign_pk: int) -> str:
    return f"wb:campaign:{campaign_pk}:lock"


class CampaignLock(RedisLock):
    """`with CampaignLock(pk, ttl, wait) as held:` — `held` is False when another action kept it."""

    def __init__(self, campaign_pk: int, ttl_seconds: float, wait_seconds: float):
        super().__init__(lock_key(campaign_pk), ttl_seconds, wait_seconds)
