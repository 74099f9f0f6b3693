"""The due sets: which tenants are due for a poll or a schedule refresh, by time, in Redis.

Two sorted sets (tenant id -> epoch seconds when next due), and a third for ContactNow
accounts' policy refreshes (account id -> when), so a tick reads only what is due
(ZRANGEBYSCORE up to now), never every tenant: its work grows with the polls it starts, not
with the tenants that sleep. A claim moves each due tenant one interval on in the same Lua
script that reads it, so any number of beats can tick at once and each poll is claimed once.

A member "built" scored +inf marks a set as complete; when it is missing (Redis restarted or
was flushed) the tick rebuilds both sets from the database (dispatch.rebuild_due_sets; the
ContactNow set on its own, tod.rebuild_due_set). Pure Redis: the database side lives in
wallboard.polling.dispatch and wallboard.polling.tod.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from redis.client import Pipeline
from redis.typing import EncodableT, FieldT

from wallboard.live.redis import get_redis
from wallboard.polling.keys import contactnow_due_key, intervals_key, polls_due_key, schedules_due_set_key

BUILT = "built"
POLLS = "poll"
SCHEDULES = "schedules"
CONTACTNOW = "contactnow"  # accounts, not tenants: its intervals are "<account id>:contactnow"
# A claim returns at most this many tenants; the rest are claimed by the next tick. Bounds
# the time one script holds Redis (single-threaded) after a long outage.
CLAIM_LIMIT = 2000

# KEYS: the due set, the intervals hash. ARGV: now, horizon, limit, which interval, default.
# Returns false when the set is not built, else a flat list: id, eta, interval, id, eta, ...
_CLAIM = """
if not redis.call('zscore', KEYS[1], ARGV[6]) then return false end
local now = tonumber(ARGV[1])
local due = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[2], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for i = 1, #due, 2 do
  local id = due[i]
  local eta = math.max(tonumber(due[i + 1]), now)
  local interval = tonumber(redis.call('hget', KEYS[2], id .. ':' .. ARGV[4]) or ARGV[5])
  redis.call('zadd', KEYS[1], string.format('%.3f', eta + interval), id)
  out[#out + 1] = id
  out[#out + 1] = string.format('%.3f', eta)
  out[#out + 1] = tostring(interval)
end
return out
"""


def _set_key(which: str) -> str:
    return {POLLS: polls_due_key(), SCHEDULES: schedules_due_set_key(), CONTACTNOW: contactnow_due_key()}[which]


def claim(which: str, now: float, horizon: float, default_interval: int) -> list[tuple[int, float, int]] | None:
    """Claim (tenant id, when, interval) for everyone due by `horizon`; None if not built."""
    raw = get_redis().eval(
        _CLAIM, 2, _set_key(which), intervals_key(),
        # Full precision: a horizon rounded down could miss a tenant made due a moment ago.
        repr(now), repr(horizon), CLAIM_LIMIT, which, default_interval, BUILT,
    )
    if raw is None:
        return None
    items = [v.decode() if isinstance(v, bytes) else str(v) for v in raw]
    return [(int(items[i]), float(items[i + 1]), int(float(items[i + 2]))) for i in range(0, len(items), 3)]


def set_next_poll(pipe: Pipeline, tenant_id: int, when: float) -> None:
    """Queue "poll this tenant at `when`" on a pipeline (the phase lock's plan).

    XX: only a tenant still in the set. One disabled or deleted meanwhile stays out.
    """
    pipe.zadd(polls_due_key(), {str(tenant_id): when}, xx=True)


def move(which: str, tenant_id: int, when: float) -> None:
    """Make an enabled tenant due at `when` (a retry, "poll now"); others stay out."""
    get_redis().zadd(_set_key(which), {str(tenant_id): when}, xx=True)


def put(which: str, member_id: int, when: float) -> None:
    """Make a member due at `when`, in the set or not yet (a back-off that must outlive a rebuild).

    A rebuild keeps the time of a member already in the set, so a back-off written before the
    set was first built still holds; one the database no longer lists goes at the next rebuild.
    """
    get_redis().zadd(_set_key(which), {str(member_id): when})


def track(tenant_id: int, poll_interval: int, schedule_interval: int, now: float) -> None:
    """Put an enabled tenant in both sets, due now, with its current intervals."""
    pipe = get_redis().pipeline()
    pipe.hset(intervals_key(), mapping={f"{tenant_id}:{POLLS}": poll_interval, f"{tenant_id}:{SCHEDULES}": schedule_interval})
    pipe.zadd(polls_due_key(), {str(tenant_id): now})
    pipe.zadd(schedules_due_set_key(), {str(tenant_id): now})
    pipe.execute()


def forget(tenant_ids: Iterable[int]) -> None:
    """Take tenants out of both sets (disabled or deleted): no tick claims them again."""
    ids = [str(t) for t in tenant_ids]
    if not ids:
        return
    pipe = get_redis().pipeline()
    pipe.zrem(polls_due_key(), *ids)
    pipe.zrem(schedules_due_set_key(), *ids)
    pipe.hdel(intervals_key(), *[f"{t}:{w}" for t in ids for w in (POLLS, SCHEDULES)])
    pipe.execute()


def members(which: str = POLLS) -> set[int]:
    """Every member of a set (for a rebuild to drop the ones no longer enabled)."""
    # The client does not decode responses: members come back as bytes.
    raw = cast(list[bytes], get_redis().zrange(_set_key(which), 0, -1))
    return {int(m) for m in raw if m != BUILT.encode()}


def rebuild(enabled: dict[int, tuple[int, int]], stale: Iterable[int], now: float) -> None:
    """Make both sets hold exactly `enabled` (id -> poll and schedule intervals) and mark them built.

    Tenants already in a set keep their time (NX): a rebuild while beats run moves no poll.
    """
    pipe = get_redis().pipeline()
    if enabled:
        mapping: dict[FieldT, EncodableT] = {}
        for tenant_id, (poll, schedules) in enabled.items():
            mapping[f"{tenant_id}:{POLLS}"] = poll
            mapping[f"{tenant_id}:{SCHEDULES}"] = schedules
        pipe.hset(intervals_key(), mapping=mapping)
        due = {str(t): now for t in enabled}
        pipe.zadd(polls_due_key(), due, nx=True)
        pipe.zadd(schedules_due_set_key(), due, nx=True)
    gone = [str(t) for t in stale if t not in enabled]
    if gone:
        pipe.zrem(polls_due_key(), *gone)
        pipe.zrem(schedules_due_set_key(), *gone)
        pipe.hdel(intervals_key(), *[f"{t}:{w}" for t in gone for w in (POLLS, SCHEDULES)])
    pipe.zadd(polls_due_key(), {BUILT: float("inf")})
    pipe.zadd(schedules_due_set_key(), {BUILT: float("inf")})
    pipe.execute()


def rebuild_one(which: str, wanted: dict[int, int], stale: Iterable[int], now: float) -> None:
    """Make one set hold exactly `wanted` (id -> interval), keeping members' times, and mark it built.

    For a set that follows its own rows (ContactNow accounts), not the tenants' two sets.
    """
    key = _set_key(which)
    pipe = get_redis().pipeline()
    if wanted:
        pipe.hset(intervals_key(), mapping={f"{member}:{which}": interval for member, interval in wanted.items()})
        pipe.zadd(key, {str(member): now for member in wanted}, nx=True)
    gone = [str(m) for m in stale if m not in wanted]
    if gone:
        pipe.zrem(key, *gone)
        pipe.hdel(intervals_key(), *[f"{m}:{which}" for m in gone])
    pipe.zadd(key, {BUILT: float("inf")})
    pipe.execute()
