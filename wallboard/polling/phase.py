"""The phase lock: poll just after 8x8 refreshes its cache, so screens show data under a second old.

8x8 answers from a cache refreshed every 10 s. Polling at a random point of that window shows
data 5 s old on average; polling just after the refresh shows it within a second. We find the
refresh by watching when the answer changes, in modes kept in Redis per tenant:

- scan: from the first poll, poll every quarter interval (SCAN) until the answer changes: the
  refresh lies between that poll and the one before, a quarter interval wide (at most four
  polls, one interval of time);
- fine: in the next window, poll every FINE (0.25 s) from the start of that quarter until the
  answer changes: the refresh is now known to within FINE, and that poll's phase is the lock
  (at most ten polls; locked within about two intervals of the start, issue 23);
- locked: poll exactly one interval after, every cycle, which is one call per endpoint per
  upstream window. Every PROBE_EVERY cycles one poll comes CREEP earlier: still new data
  means the refresh is earlier than we thought: we keep the earlier phase and probe again
  next cycle twice as far (up to PROBE_MAX); a probe that gets the same data costs one extra
  call and a relook at the locked phase (relook). A lock is taken where the worker saw the new
  data, not where the poll was due; one taken from a late poll probes the next cycle. A relook
  due at the last good phase keeps that phase even when it ran late (a plan under a beat tick
  ahead waits for the next tick);
- new data means new agents, the poll's first call: a refresh between its two calls (new
  queues, the same agents) is a poll a hair early, not a lock (`straddled`): look again a
  step later, and lock there even if that poll runs late;
- a move upstream: a refresh that comes later than it did makes a locked poll see the same
  data: scan again from there. One that comes earlier still brings new data every cycle, only
  older: the answers say so, as agents' time in status grew by less than an interval between
  two locked polls (`fingerprint` keeps a few agents' for that): fine again just before the
  refresh the growth points at. Smaller moves than a second are left to the probes;
- quiet: no change for a whole interval although we looked: a tenant with nothing moving.
  Poll once an interval and scan again when the data moves.

A failed poll changes nothing here: the claim already set the next poll one interval on.
"""

from __future__ import annotations

import heapq
import json
import statistics
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

from redis.typing import EncodableT, FieldT

from wallboard.live.redis import get_redis
from wallboard.polling.due import set_next_poll
from wallboard.polling.keys import phase_key

if TYPE_CHECKING:
    from wallboard.vcc.records import Agent, Queue

PHASE_STEP = 1.0
PHASE_CREEP = 0.25
PHASE_PROBE_EVERY = 12
PHASE_PROBE_MAX = 4.0
PHASE_SCAN = 0.25  # of the interval
PHASE_FINE = 0.25  # seconds, whatever the interval: the precision of the lock
# A locked poll whose answer moved this much less than an interval (agents' time in status,
# whole seconds) says the refresh came earlier.
PHASE_EARLIER = 1.0
_SAMPLE = 12  # agents whose time in status the fingerprint keeps
_SAMPLE_MIN = 3  # agents seen in both answers, at least, to read a move from them


def phase_scale(interval: float) -> float:
    """The steps above suit 8x8's 10 s refresh; a faster source (Analytics: 5 s) scales them down
    (and probes as often in time, so one in twice as many cycles). Slower intervals keep them."""
    return min(1.0, interval / 10.0)


def fingerprint(agent_records: Sequence[Agent], queue_records: Sequence[Queue]) -> str:
    """Something that changes whenever upstream refreshed (time in status always moves).

    After a `|`, the agents with the longest time in status and theirs: how far upstream's
    clock moved between two answers (`upstream_advance`), which tells an earlier refresh.
    """
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
    longest = heapq.nlargest(
        _SAMPLE, ((a.time_in_status, a.agent_id) for a in agent_records if type(a.time_in_status) is int)
    )
    return f"{agents}{queues}|" + json.dumps({agent_id: seconds for seconds, agent_id in longest})


def upstream_advance(before: str, after: str) -> float | None:
    """Seconds upstream's clock moved between two answers' refreshes; None if they cannot tell.

    An agent whose status did not change has its time in status grown by exactly that; one
    whose status changed restarted from zero and is left out. The median of what is left.
    """
    old, new = _sample(before), _sample(after)
    grown = sorted(new[a] - old[a] for a in old.keys() & new.keys() if new[a] >= old[a])
    if len(grown) < _SAMPLE_MIN:
        return None
    return float(statistics.median(grown))


def first_call_part(print_: str) -> str:
    """The part of a fingerprint that comes from the poll's first call (agents: counts and sample).

    A poll makes two calls, agents then queues: a refresh can fall between them, and then only
    the queues part is new while the agents part is a whole interval old (issue 23: a lock taken
    there kept the agents ten seconds old, and probes seconds early still "saw new data").
    """
    head, bar, sample = print_.partition("|")
    agents, paren, _ = head.partition(")")
    return f"{agents}{paren}{bar}{sample}"


def straddled(before: str, after: str) -> bool:
    """True when a refresh fell between this poll's two calls: new queues, the agents unchanged.

    Only said of agents that move (some time in status, which grows with every refresh): a
    tenant with nobody logged in has agents that never change, and new queues are new data.
    """
    return before != after and first_call_part(before) == first_call_part(after) and bool(_sample(before))


def _sample(print_: str) -> dict[str, int]:
    _, bar, sample = print_.partition("|")
    if not bar:
        return {}
    try:
        found = json.loads(sample)
    except ValueError:
        return {}
    return {k: v for k, v in found.items() if type(v) is int} if isinstance(found, dict) else {}


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
    mode, when, state = _next_phase(raw, interval, base, print_, polled_at)
    pipe = client.pipeline()
    pipe.delete(phase_key(tenant_id))
    fields = {"fingerprint": print_, "mode": mode, "planned": f"{when:.3f}", **state}
    # redis types the mapping with a union key, which a dict[str, str] is not (dict keys are invariant).
    pipe.hset(phase_key(tenant_id), mapping=cast(Mapping[FieldT, EncodableT], fields))
    pipe.expire(phase_key(tenant_id), int(interval * 10))
    set_next_poll(pipe, tenant_id, when)
    pipe.execute()
    return when


def _next_phase(
    raw: dict[str, str], interval: float, polled_at: float, print_: str, actual: float | None = None
) -> tuple[str, float, dict[str, str]]:
    """(mode, next poll time, state to keep) for a poll due at `polled_at` that got `print_`.

    `actual` is when it ran. A lock is taken where the new data was seen (a worker running
    late under load saw it later than planned; locking on the plan would poll too early);
    every other step counts from the plan, so that lateness does not add up.
    """
    seen = polled_at if actual is None else max(polled_at, actual)
    mode = raw.get("mode", "scan")
    k = phase_scale(interval)
    step, creep, probe_max = PHASE_STEP * k, PHASE_CREEP * k, PHASE_PROBE_MAX * k
    scan, fine = PHASE_SCAN * interval, min(PHASE_FINE, PHASE_SCAN * interval)
    good = float(raw.get("good", 0) or 0)
    last = float(raw.get("last", 0) or 0) or polled_at
    last_seen = float(raw.get("seen", 0) or 0) or last
    steady = int(raw.get("steady", 0) or 0)
    probe = float(raw.get("probe", 0) or 0)
    sure = float(raw.get("sure", 0) or 0)
    here = {"last": f"{polled_at:.3f}", "seen": f"{seen:.3f}"}
    if "fingerprint" not in raw:
        return "scan", polled_at + scan, {**here, "good": f"{polled_at:.3f}"}
    split = straddled(raw["fingerprint"], print_)
    if raw["fingerprint"] != print_ and not split:  # new data: this poll came after a refresh
        kept = {**here, "good": f"{polled_at:.3f}"}
        if mode in ("relook", "fine") or (mode == "scan" and polled_at - last <= fine):
            # A late worker (a loaded machine) leaves the refresh anywhere since the poll before:
            # probe at once (next cycle) rather than in PROBE_EVERY cycles, to come back closer.
            # A poll due where the refresh is known to be behind (the last good phase after a
            # probe came too early, a step after a straddle) may run late: a plan under a beat
            # tick ahead waits for the next tick. The phase it was due at is the lock then.
            known = bool(sure) and abs(polled_at - sure) < 1e-3
            wide = mode != "relook" and not known and seen - last_seen > 2 * fine
            steady = round(PHASE_PROBE_EVERY / k) - 1 if wide else 0
            at = min(seen, polled_at) if known else seen
            return "locked", at + interval, {**here, "good": f"{at:.3f}", "steady": str(steady)}
        if mode == "scan":
            # The refresh lies between the last poll and this one: look there, finely, next window.
            return "fine", max(polled_at + fine, last + interval + fine), kept
        if mode == "locked" and probe:
            # A probe that still got new data: the refresh is earlier than we thought (upstream
            # moved). Probe again next cycle, twice as far, until one comes too early.
            further = min(probe * 2, probe_max)
            return "locked", polled_at + interval - further, {**kept, "probe": f"{further:.3f}"}
        if mode == "locked":
            advance = upstream_advance(raw["fingerprint"], print_)
            if advance is not None and 0 < advance <= interval - PHASE_EARLIER and polled_at - good < 1.5 * interval:
                # The refresh came `interval - advance` earlier than the last: the next one is
                # due about `advance` after this poll (whole seconds: look from one before).
                return "fine", polled_at + max(fine, advance - PHASE_EARLIER), kept
            steady += 1
            if steady >= round(PHASE_PROBE_EVERY / k):
                return "locked", polled_at + interval - creep, {**kept, "probe": f"{creep:.3f}"}
            return "locked", polled_at + interval, {**kept, "steady": str(steady)}
        return "scan", polled_at + scan, kept  # quiet (or an older state) woke up
    kept = {**here, "good": f"{good:.3f}"}
    if mode == "locked" and probe:
        # Early: the refresh lies between now and where the last good poll's phase falls.
        gap = good + interval - polled_at
        if 0 < gap <= step:
            return "relook", good + interval, {**kept, "sure": f"{good + interval:.3f}"}
        return "relook", polled_at + step, kept
    if split:
        # The refresh began between this poll's two calls, just after its first (sent at `seen`,
        # however late): a step later all of the answer is new. Locking here would keep the
        # agents a whole interval old.
        after = seen + fine
        return ("relook" if mode in ("locked", "relook") else "fine"), after, {**kept, "sure": f"{after:.3f}"}
    if mode == "locked":
        # A locked poll that finds nothing new: the refresh moved later. Scan from here.
        return "scan", polled_at + scan, {**here, "good": f"{polled_at:.3f}"}
    if mode == "relook" and polled_at - good < interval + step:
        return "relook", polled_at + fine, kept  # the refresh is just ahead: look again finely
    if mode == "fine" and polled_at - good < interval + 2 * fine:
        return "fine", polled_at + fine, kept
    if mode in ("scan", "seek", "fine") and polled_at - good < interval:
        return "scan", polled_at + scan, kept
    # A whole interval and more without a change: nothing moves at this tenant.
    return "quiet", polled_at + interval, kept
