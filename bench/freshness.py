"""Freshness: how long after 8x8's cache refresh the new numbers are on screen, and the phase lock.

The simulator (speed 1: a real 10 s refresh) logs every build of its statistics cache and,
for every statistics request, when it came and which build answered it (`GET
/_sim/request-log`, wallboard/simulator/requestlog.py); a websocket client records when each
patch carrying new data arrives and its `as_of` (when the poll started). A patch's poll is the
first whose agents call came after its as_of, so

    age = arrival on screen - the end of the build of the oldest half of the poll that is new

(a poll whose agents call came before a refresh and its queues call after it shows agents a
refresh older: counted from that one when the agents are new on the screen). Each age is cut
in three after the lock: the lock's estimate (the plan - the refresh), scheduling (the request
- the plan; a plan written less than a beat tick ahead waits for the next tick) and processing
(the screen - the request). Without the log (`--source analytics`) the refresh is the latest
before the poll started plus half a second, from `/_sim/state` sampled every 0.1 s.

Polling starts at an arbitrary phase; the phase lock (wallboard.polling.phase) moves it to
just after the refresh. Ages are reported while it converges (the first `--settle` seconds) and
after, with upstream calls per refresh in each part, and the phase lock's mode as it changes.

    .venv/bin/python bench/freshness.py                   # 5 minutes
    .venv/bin/python bench/freshness.py --seconds 600 --settle 180

Targets (issue 23): locked within 20 s of the first poll and of a phase change upstream; once
locked, mean age <= 0.25 s, max <= 0.5 s, at most 1.1 calls per endpoint per refresh (one, plus
the phase lock's occasional probe). "Once locked" counts the polls made after the lock was
taken (the one that took it got its data while searching; its age is printed apart). Exit
status 0 when met, 1 otherwise.

    .venv/bin/python bench/freshness.py --seconds 240 --jump 4      # refresh 4 s later at 120 s
    .venv/bin/python bench/freshness.py --seconds 240 --jump -4     # ... 4 s earlier

`--jump S` moves the simulator's refresh clock by S seconds (`/_sim/config` `refresh_phase`) at
`--jump-at` (default: half way): "locked" is then the lock's mode in Redis, and the figures
after lock are taken from the lock to the jump and from the relock to the end.

`--tick S` runs the beat every S seconds (WALLBOARD_TICK_SECONDS, 0.25 s by default): the
phase lock's polls planned less than a tick ahead (its quarter-second steps, the poll after a
probe that came too early) run at the next tick, so this bounds their lateness.

`--source analytics` switches the demo tenant to the Analytics API (v5, a 5 s refresh; see
bench/analytics.py): targets mean age <= 1.0 s, max <= 2.0 s, at most 1.1 x the pages a
refresh needs (agents and queues at 1,000 a page).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import analytics as analytics_bench  # noqa: E402
from bench.common import (  # noqa: E402
    BoardClient,
    board_ready,
    display_cookie,
    machine,
    percentile,
    redis_client,
    sim,
    start_stack,
    verdict,
    wait_until,
    ws_target,
)

MEAN_TARGET = 0.25
MAX_TARGET = 0.5
CALLS_TARGET = 1.1
LOCK_TARGET = 20.0
# A request that arrives while the simulator rebuilds its cache waits and gets the new data.
REBUILD_SLACK = 0.5


class Watcher:
    """Samples the simulator's refresh times, request counters and the phase lock's mode."""

    def __init__(self, stack):
        self.stack = stack
        self.refreshes: set[float] = set()
        self.counters: list[tuple[float, dict]] = []
        self.modes: list[tuple[float, str]] = []
        self.plans: list[tuple[float, str, float]] = []  # (seen at, mode, next poll planned at)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        client = redis_client(self.stack)
        keys = [k for k in client.scan_iter("wb:tenant:*:phase")]
        while not self.stop.is_set():
            state = sim(self.stack, "/_sim/state")
            now = time.time()
            self.refreshes.add(state["last_refresh_real_ms"] / 1000)
            self.counters.append((now, {"agents": state["requests"]["agents"], "queues": state["requests"]["queues"],
                                        "refreshes": state["refresh_count"], "in_flight": max(state["max_in_flight"].values())}))
            keys = keys or list(client.scan_iter("wb:tenant:*:phase"))
            if keys:
                mode_b, planned_b = client.hmget(keys[0], "mode", "planned")
                mode, planned = (mode_b or b"?").decode(), float(planned_b or 0)
                if not self.modes or self.modes[-1][1] != mode:
                    self.modes.append((now, mode))
                if not self.plans or self.plans[-1][2] != planned:
                    self.plans.append((now, mode, planned))
            self.stop.wait(0.1)

    def counts_between(self, start: float, end: float) -> dict:
        """Calls and refreshes between two times (the counters' reset after start-up skipped)."""
        inside = [c for t, c in self.counters if start <= t <= end]
        return {k: sum(max(0, b[k] - a[k]) for a, b in zip(inside, inside[1:], strict=False))
                for k in ("agents", "queues", "refreshes")}

    def locked_at(self, since: float, moved: bool) -> float | None:
        """When the lock's mode was next "locked" after `since` (after another mode first, if `moved`)."""
        seen_other = not moved
        for at, mode in self.modes:
            if at < since:
                continue
            if mode != "locked":
                seen_other = True
            elif seen_other:
                return at
        return None


def ages(client: BoardClient, refreshes: list[float]) -> list[tuple[float, float, float]]:
    """(arrival, age in s, poll start) of every patch that brought new data."""
    found = []
    for a in client.arrivals:
        if a.kind != "patch" or a.empty or not a.as_of:
            continue
        fetched = datetime.fromisoformat(a.as_of).timestamp()
        i = bisect_right(refreshes, fetched + REBUILD_SLACK) - 1
        if i >= 0:
            found.append((a.at, a.at - refreshes[i], fetched))
    return found


@dataclass
class Poll:
    """One poll as the simulator saw it: its agents call, then its queues call."""

    agents_at: float  # wall clock, when the simulator read the agents request
    queues_at: float
    agents_gen: int  # the cache build (refresh) each call was answered from
    queues_gen: int

    @property
    def straddled(self) -> bool:
        """A refresh fell between the two calls: the agents half is a whole refresh older."""
        return self.agents_gen != self.queues_gen


def polls_from_log(log: dict) -> tuple[list[Poll], dict[int, dict]]:
    """The demo tenant's polls (agents then queues, paired in order) and the refreshes by generation."""
    refreshes = {r["generation"]: r for r in log["refreshes"]}
    calls = sorted((r for r in log["requests"] if r["kind"] in ("agents", "queues") and r["status"] == 200
                    and r["generation"] is not None), key=lambda r: r["received"])
    found, pending = [], None
    for call in calls:
        if call["kind"] == "agents":
            pending = call
        elif pending is not None:
            found.append(Poll(pending["received"], call["received"], pending["generation"], call["generation"]))
            pending = None
    return found, refreshes


def exact_ages(client: BoardClient, found: list[Poll], refreshes: dict[int, dict]) -> list[tuple[float, float, float]]:
    """(arrival, age in s, its agents request) of every patch with new data, from the request log.

    A patch's poll is the first whose agents call came after its as_of (taken when the poll
    started). Its age counts from the refresh of the oldest half that is new on the screen: a
    poll whose agents are a refresh older than its queues shows agents ten seconds old if they
    changed since the poll before (a lock taken across a refresh), nothing older if not.
    """
    starts = [p.agents_at for p in found]
    ages_found = []
    for a in client.arrivals:
        if a.kind != "patch" or a.empty or not a.as_of:
            continue
        i = bisect_right(starts, datetime.fromisoformat(a.as_of).timestamp())
        if i >= len(found):
            continue
        poll, before = found[i], found[i - 1] if i > 0 else None
        new = [g for g, old in ((poll.agents_gen, before and before.agents_gen),
                                (poll.queues_gen, before and before.queues_gen)) if g != old]
        if not new:
            continue  # the same answer as the poll before (a probe too early): the patch is the clock's
        oldest = refreshes.get(min(new))
        if oldest is not None:
            ages_found.append((a.at, a.at - oldest["ended"], poll.agents_at))
    return ages_found


def age_parts(client: BoardClient, found: list[Poll], refreshes: dict[int, dict],
              plans: list[tuple[float, str, float]], since: float, until: float) -> dict[str, list[float]]:
    """Each new-data poll's age cut in three: the lock's estimate, scheduling, and processing.

    estimate: its plan - the end of the refresh it got (where the phase lock aimed);
    scheduling: its agents request - its plan (worker lateness, and a plan written less than a
    beat tick ahead waiting for the next tick: `short` when it was);
    processing: the patch's arrival on screen - its agents request (fetch, parse, publish).
    """
    written = sorted((planned, seen) for seen, _, planned in plans)
    planned_at = [p for p, _ in written]
    arrivals = sorted(a.at for a in client.arrivals if a.kind == "patch" and not a.empty)
    parts: dict[str, list[float]] = {"estimate": [], "scheduling": [], "short": [], "processing": [], "straddles": []}
    for i, poll in enumerate(found):
        refresh = refreshes.get(poll.agents_gen)
        if not since <= poll.agents_at < until or refresh is None:
            continue
        if i > 0 and found[i - 1].agents_gen == poll.agents_gen:
            continue  # no new agents: too early (a probe), or the second half of a straddle
        parts["straddles"] += [1.0] if poll.straddled else []
        j = bisect_right(planned_at, poll.agents_at) - 1
        if j >= 0 and poll.agents_at - planned_at[j] < 2.0:
            plan, seen = written[j]
            parts["estimate"].append(plan - refresh["ended"])
            parts["scheduling" if plan - seen >= 1.0 else "short"].append(poll.agents_at - plan)
        k = bisect_right(arrivals, poll.agents_at)
        if k < len(arrivals) and arrivals[k] - poll.agents_at < 5.0:
            parts["processing"].append(arrivals[k] - poll.agents_at)
    return parts


def print_age_parts(parts: dict[str, list[float]]) -> None:
    def stat(values: list[float]) -> str:
        if not values:
            return "none"
        return f"mean {sum(values) / len(values):+.2f} s, max {max(values):+.2f} s ({len(values)})"

    print(f"    where the age goes: lock's estimate (plan - refresh) {stat(parts['estimate'])}; "
          f"scheduling (request - plan) {stat(parts['scheduling'])}, of plans under a tick ahead "
          f"{stat(parts['short'])}; processing (screen - request) {stat(parts['processing'])}; "
          f"straddling a refresh {len(parts['straddles'])}")


def print_poll_trace(found: list[Poll], refreshes: dict[int, dict], first_poll: float) -> None:
    """Every poll: when its calls came, the refresh each got and how far after it, straddles marked."""
    print("polls (s since the first poll: agents call +s after its refresh's end [generation], queues likewise):")
    for poll in found:
        a, q = refreshes.get(poll.agents_gen), refreshes.get(poll.queues_gen)
        if a is None or q is None:
            continue
        mark = "  STRADDLE: the agents half is a refresh older" if poll.straddled else ""
        print(f"  {poll.agents_at - first_poll:7.2f}: agents {poll.agents_at - a['ended']:+.2f} [{poll.agents_gen}], "
              f"queues {poll.queues_at - q['ended']:+.2f} [{poll.queues_gen}]{mark}")


async def watch(url: str, headers: dict, seconds: float) -> BoardClient:
    client = BoardClient(url, headers)
    stop = asyncio.Event()
    task = asyncio.ensure_future(client.run(stop))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait([task], timeout=10)
    return client


def summary(name: str, values: list[float], counts: dict) -> dict:
    refreshes = max(1, counts["refreshes"])
    result = {
        "n": len(values), "mean": sum(values) / len(values) if values else float("nan"),
        "p50": percentile(values, 50), "max": max(values, default=float("nan")),
        "agents_per_refresh": counts["agents"] / refreshes, "queues_per_refresh": counts["queues"] / refreshes,
    }
    print(f"  {name}: {result['n']} updates, age mean {result['mean']:.2f} s, p50 {result['p50']:.2f} s, "
          f"max {result['max']:.2f} s; calls per refresh: agents {result['agents_per_refresh']:.2f}, "
          f"queues {result['queues_per_refresh']:.2f} ({counts['refreshes']} refreshes)")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300, help="how long to watch (>= 180 to see convergence)")
    parser.add_argument("--settle", type=float, default=120, help="seconds counted as converging")
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--queues", type=int, default=300)
    parser.add_argument("--source", choices=("statistics", "analytics"), default="statistics")
    parser.add_argument("--jump", type=float, default=0.0,
                        help="move upstream's refresh this many seconds (statistics source; 0: no move)")
    parser.add_argument("--jump-at", type=float, default=None, help="seconds into the watch (default: half way)")
    parser.add_argument("--trace", action="store_true", help="print every plan of the phase lock and every poll")
    parser.add_argument("--tick", type=float, default=None,
                        help="the beat's tick in seconds (WALLBOARD_TICK_SECONDS; default: the setting's, 0.25 s)")
    args = parser.parse_args(argv)
    print(machine())
    analytics = args.source == "analytics"
    if analytics and args.jump:
        parser.error("--jump moves the statistics cache's refresh only")
    env = {"WALLBOARD_TICK_SECONDS": str(args.tick)} if args.tick else None
    stack = start_stack(args.agents, args.queues, env=env)
    watcher = analytics_bench.AnalyticsWatcher(stack, sim, redis_client) if analytics else Watcher(stack)
    jumped: list[float] = []
    log: dict = {"refreshes": [], "requests": []}
    began = time.time()
    try:
        if not analytics:
            watcher.thread.start()  # from the first poll on: the time to lock counts from there
        wait_until(lambda: board_ready(stack), 90, what="first board state")
        if analytics:
            analytics_bench.use_analytics(stack)
            sim(stack, "/_sim/analytics/reset-counters", {})
        url, headers = ws_target(stack, display_cookie(stack))
        sim(stack, "/_sim/reset-counters", {})
        if analytics:
            watcher.thread.start()
        started = time.time()
        jump = None
        if args.jump:
            def move_refresh() -> None:
                sim(stack, "/_sim/config", {"refresh_phase": args.jump})
                jumped.append(time.time())

            jump = threading.Timer(args.seconds / 2 if args.jump_at is None else args.jump_at, move_refresh)
            jump.start()
        print(f"watching for {args.seconds:.0f} s ...", flush=True)
        client = asyncio.run(watch(url, headers, args.seconds))
        ended = time.time()
        if jump is not None:
            jump.cancel()
        if not analytics:
            log = sim(stack, f"/_sim/request-log?since={began - 5:.3f}")
    finally:
        watcher.stop.set()
        stack.stop()
    polls, refreshes = polls_from_log(log)
    # The request log says which refresh each call got; without it, the latest refresh before the poll.
    found = exact_ages(client, polls, refreshes) if polls else ages(client, sorted(watcher.refreshes))
    settle = started + args.settle
    print("\nphase lock modes: " + ", ".join(f"{t - started:.0f} s {m}" for t, m in watcher.modes))
    print("per minute (age mean / max):")
    for minute in range(int(args.seconds // 60) + 1):
        part = [age for at, age, _ in found if started + 60 * minute <= at < started + 60 * (minute + 1)]
        if part:
            print(f"  minute {minute + 1}: {sum(part) / len(part):.2f} s / {max(part):.2f} s ({len(part)} updates)")
    summary("converging", [age for at, age, _ in found if at < settle], watcher.counts_between(started, settle))
    after = summary("locked", [age for at, age, _ in found if at >= settle], watcher.counts_between(settle, ended))
    in_flight = max((c["in_flight"] for _, c in watcher.counters), default=0)
    print(f"  seq gaps {client.gaps}, resyncs {client.resyncs}, max in flight at the simulator {in_flight}")
    if not analytics:
        return lock_report(watcher, client, found, started, ended, jumped, args.jump, in_flight, args.trace,
                           (polls, refreshes))
    print(f"\ntargets after convergence ({machine()}):")
    mean_target, max_target, calls_target, calls_name = MEAN_TARGET, MAX_TARGET, CALLS_TARGET, "calls per endpoint per refresh"
    if analytics:
        needed = analytics_bench.pages_needed(args.agents, args.queues)
        mean_target, max_target, calls_name = analytics_bench.MEAN_TARGET, analytics_bench.MAX_TARGET, "pages per refresh"
        calls_target = round(needed * analytics_bench.PROBE_SLACK, 2)
    ok = verdict("mean age", after["mean"] <= mean_target, f"{after['mean']:.2f} s (target <= {mean_target} s)")
    ok &= verdict("max age", after["max"] <= max_target, f"{after['max']:.2f} s (target <= {max_target} s)")
    calls = max(after["agents_per_refresh"], after["queues_per_refresh"])
    ok &= verdict(calls_name, calls <= calls_target, f"{calls:.2f} (target <= {calls_target})")
    ok &= verdict("max in flight", in_flight <= 1, str(in_flight))
    return 0 if ok and after["n"] > 0 else 1


def lock_report(watcher: Watcher, client: BoardClient, found: list[tuple[float, float, float]], started: float,
                ended: float, jumped: list[float], jump: float, in_flight: int, trace: bool = False,
                logged: tuple[list[Poll], dict[int, dict]] = ([], {})) -> int:
    """Time to lock (from the first poll, and from the jump), and the figures while locked."""
    first_poll = watcher.modes[0][0] if watcher.modes else started
    events = [("start", first_poll, False)] + [(f"jump {jump:+.1f} s", at, True) for at in jumped]
    ok, locked_ages, counts = True, [], {"agents": 0, "queues": 0, "refreshes": 0}
    processing = [a.at - datetime.fromisoformat(a.as_of).timestamp() for a in client.arrivals
                  if a.kind == "patch" and not a.empty and a.as_of]
    print(f"\npoll start to screen (part of every age): median {percentile(processing, 50):.2f} s, "
          f"p90 {percentile(processing, 90):.2f} s")
    if trace:
        print("plans (s since the first poll: mode, next poll at, mod 10):")
        print("  " + "; ".join(f"{seen - first_poll:.1f} {mode} {planned - first_poll:.2f} ({planned % 10:.2f})"
                               for seen, mode, planned in watcher.plans))
        print_poll_trace(*logged, first_poll)
    print("\nphase lock (issue 23):")
    for i, (name, at, moved) in enumerate(events):
        until = events[i + 1][1] if i + 1 < len(events) else ended
        lock = watcher.locked_at(at, moved)
        if lock is None or lock >= until:
            ok &= verdict(f"locked after {name}", False, "never")
            continue
        ok &= verdict(f"locked after {name}", lock - at <= LOCK_TARGET,
                      f"{lock - at:.1f} s (target <= {LOCK_TARGET:.0f} s)")
        # The polls the lock planned: the one that took it fetched its data while still searching.
        part = [age for _, age, polled in found if lock <= polled < until]
        taking = [age for _, age, polled in found if polled < lock <= polled + 5.0]
        if taking:
            print(f"    the poll that took the lock: age {taking[-1]:.2f} s (searching: not counted below)")
        locked_ages += part
        seg = watcher.counts_between(max(lock, started), until)
        counts = {k: counts[k] + seg[k] for k in counts}
        if part:
            print(f"    then {len(part)} updates: age mean {sum(part) / len(part):.2f} s, max {max(part):.2f} s")
        if logged[0]:
            print_age_parts(age_parts(client, *logged, watcher.plans, lock, until))
    after = summary("all locked time", locked_ages, counts)
    print(f"\ntargets while locked ({machine()}):")
    ok &= verdict("mean age", after["mean"] <= MEAN_TARGET, f"{after['mean']:.2f} s (target <= {MEAN_TARGET} s)")
    ok &= verdict("max age", after["max"] <= MAX_TARGET, f"{after['max']:.2f} s (target <= {MAX_TARGET} s)")
    calls = max(after["agents_per_refresh"], after["queues_per_refresh"])
    ok &= verdict("calls per endpoint per refresh", calls <= CALLS_TARGET, f"{calls:.2f} (target <= {CALLS_TARGET})")
    ok &= verdict("max in flight", in_flight <= 1, str(in_flight))
    ok &= verdict("seq gaps", client.gaps == 0, str(client.gaps))
    return 0 if ok and after["n"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
