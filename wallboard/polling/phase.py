"""The phase lock: poll just after 8x8 refreshes its cache, so screens show data under a second old.

8x8 answers from a cache refreshed every 10 s. Polling at a random point of that window shows
data 5 s old on average; polling just after the refresh shows it within a second. We find the
refresh by watching when the answer changes, in four modes kept in Redis per tenant:

- seek: each poll that brings new data moves the next one SEEK earlier (9 s apart), so within
  ten cycles one lands just before a refresh and sees the same data as the last one;
- relook: after such an early poll we look again where the last good poll was (or STEP
  later), which is after the refresh: the refresh is now known to within that gap;
- locked: poll exactly one interval after the relook, every cycle, which is one call per
  endpoint per upstream window. Every PROBE_EVERY cycles one poll comes CREEP earlier: still
  new data means the refresh is earlier than we thought: we keep the earlier phase and probe
  again next cycle twice as far (up to PROBE_MAX), so even a jump of several seconds is
  found in a few cycles; the same data costs one extra call and a relook. If upstream's
  phase drifts later, a locked poll sees the same data and relooks by itself;
- quiet: no change for more than an interval although we relooked: a tenant with nothing
  moving. Poll once an interval and seek again when the data moves.

A failed poll changes nothing here: the claim already set the next poll one interval on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

from redis.typing import EncodableT, FieldT

from wallboard.live.redis import get_redis
from wallboard.polling.keys import next_key, phase_key

if TYPE_CHECKING:
    from wallboard.vcc.records import Agent, Queue

PHASE_STEP = 1.0
PHASE_SEEK = 1.0
PHASE_CREEP = 0.25
PHASE_PROBE_EVERY = 12
PHASE_PROBE_MAX = 4.0


def phase_scale(interval: float) -> float:
    """The steps above suit 8x8's 10 s refresh; a faster source (Analytics: 5 s) scales them down
    (and probes as often in time, so one in twice as many cycles). Slower intervals keep them."""
    return min(1.0, interval / 10.0)


def fingerprint(agent_records: Sequence[Agent], queue_records: Sequence[Queue]) -> str:
    """Something that changes whenever upstream refreshed (time in status always moves)."""
    agents = (
        len(agent_records),
        sum(a.time_in_status or 0 for a in agent_records),
        sum(a.agent_status or 0 for a in agent_records),
    )
    queues = (
        len(queue_records),
        sum(q.longest_wait_time or 0 for q in queue_records),
        sum(q.queue_size or 0 for q in queue_records),
        sum(q.day_queued or 0 for q in queue_records),
    )
    return f"{agents}{queues}"


def plan_next_poll(tenant_id: int, interval: float, polled_at: float, print_: str) -> float:
    """Decide when to poll next from whether this answer was new; return that time."""
    client = get_redis()
    # The client does not decode responses: the hash comes back as bytes.
    stored = cast(dict[bytes, bytes], client.hgetall(phase_key(tenant_id)))
    raw = {k.decode(): v.decode() for k, v in stored.items()}
    # Plan from when this poll was due, not when the worker got to it: otherwise the worker's
    # lateness (tens of ms under load) would add up cycle after cycle and drag the phase late.
    planned = float(raw.get("planned", 0) or 0)
    base = planned if abs(polled_at - planned) < PHASE_STEP * phase_scale(interval) else polled_at
    mode, when, state = _next_phase(raw, interval, base, print_)
    pipe = client.pipeline()
    pipe.delete(phase_key(tenant_id))
    fields = {"fingerprint": print_, "mode": mode, "planned": f"{when:.3f}", **state}
    # redis types the mapping with a union key, which a dict[str, str] is not (dict keys are invariant).
    pipe.hset(phase_key(tenant_id), mapping=cast(Mapping[FieldT, EncodableT], fields))
    pipe.expire(phase_key(tenant_id), int(interval * 10))
    pipe.set(next_key(tenant_id), f"{when:.3f}")
    pipe.execute()
    return when


def _next_phase(raw: dict[str, str], interval: float, polled_at: float, print_: str) -> tuple[str, float, dict[str, str]]:
    """(mode, next poll time, state to keep) for a poll at `polled_at` that got `print_`."""
    mode = raw.get("mode", "seek")
    k = phase_scale(interval)
    step, seek, creep, probe_max = PHASE_STEP * k, PHASE_SEEK * k, PHASE_CREEP * k, PHASE_PROBE_MAX * k
    good = float(raw.get("good", 0) or 0)
    steady = int(raw.get("steady", 0) or 0)
    probe = float(raw.get("probe", 0) or 0)
    if "fingerprint" not in raw:
        return "seek", polled_at + interval - seek, {"good": f"{polled_at:.3f}"}
    if raw["fingerprint"] != print_:  # new data: this poll came after a refresh
        kept = {"good": f"{polled_at:.3f}"}
        if mode == "relook":
            return "locked", polled_at + interval, {**kept, "steady": "0"}
        if mode == "locked" and probe:
            # A probe that still got new data: the refresh is earlier than we thought (upstream
            # moved). Probe again next cycle, twice as far, until one comes too early.
            further = min(probe * 2, probe_max)
            return "locked", polled_at + interval - further, {**kept, "probe": f"{further:.3f}"}
        if mode == "locked":
            steady += 1
            if steady >= round(PHASE_PROBE_EVERY / k):
                return "locked", polled_at + interval - creep, {**kept, "probe": f"{creep:.3f}"}
            return "locked", polled_at + interval, {**kept, "steady": str(steady)}
        return "seek", polled_at + interval - seek, kept
    kept = {"good": f"{good:.3f}"}
    if mode in ("seek", "locked"):
        # Early: the refresh lies between now and where the last good poll's phase falls.
        gap = good + interval - polled_at
        return "relook", polled_at + (gap if 0 < gap <= step else step), kept
    if mode == "relook" and polled_at - good < interval + step:
        return "relook", polled_at + step, kept
    # A whole interval and more without a change: nothing moves at this tenant.
    return "quiet", polled_at + interval, kept
