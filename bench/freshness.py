"""Freshness: how long after 8x8's cache refresh the new numbers are on screen, and the phase lock.

The simulator (speed 1: a real 10 s refresh) says when it last refreshed its cache
(`/_sim/state` `last_refresh_real_ms`, sampled every 0.25 s here); a websocket client records
when each patch carrying new data arrives and its `as_of` (when the poll started). The data of
a poll comes from the latest refresh before the poll (plus half a second: a request that
arrives while the simulator rebuilds its cache waits for the new one), so

    age = arrival on screen - that refresh's wall-clock time.

Polling starts at an arbitrary phase; the phase lock (wallboard.polling.phase) moves it to
just after the refresh. Ages are reported while it converges (the first `--settle` seconds) and
after, with upstream calls per refresh in each part, and the phase lock's mode as it changes.

    .venv/bin/python bench/freshness.py                   # 5 minutes
    .venv/bin/python bench/freshness.py --seconds 600 --settle 180

Targets (issue 23): locked within 20 s of the first poll and of a phase change upstream; once
locked, mean age <= 0.25 s, max <= 0.5 s, at most 1.1 calls per endpoint per refresh (one, plus
the phase lock's occasional probe). Exit status 0 when met, 1 otherwise.

    .venv/bin/python bench/freshness.py --seconds 240 --jump 4      # refresh 4 s later at 120 s
    .venv/bin/python bench/freshness.py --seconds 240 --jump -4     # ... 4 s earlier

`--jump S` moves the simulator's refresh clock by S seconds (`/_sim/config` `refresh_phase`) at
`--jump-at` (default: half way): "locked" is then the lock's mode in Redis, and the figures
after lock are taken from the lock to the jump and from the relock to the end.

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


def ages(client: BoardClient, refreshes: list[float]) -> list[tuple[float, float]]:
    """(arrival, age in s) of every patch that brought new data."""
    found = []
    for a in client.arrivals:
        if a.kind != "patch" or a.empty or not a.as_of:
            continue
        fetched = datetime.fromisoformat(a.as_of).timestamp()
        i = bisect_right(refreshes, fetched + REBUILD_SLACK) - 1
        if i >= 0:
            found.append((a.at, a.at - refreshes[i]))
    return found


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
    parser.add_argument("--trace", action="store_true", help="print every plan of the phase lock")
    args = parser.parse_args(argv)
    print(machine())
    analytics = args.source == "analytics"
    if analytics and args.jump:
        parser.error("--jump moves the statistics cache's refresh only")
    stack = start_stack(args.agents, args.queues)
    watcher = analytics_bench.AnalyticsWatcher(stack, sim, redis_client) if analytics else Watcher(stack)
    jumped: list[float] = []
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
    finally:
        watcher.stop.set()
        stack.stop()
    found = ages(client, sorted(watcher.refreshes))
    settle = started + args.settle
    print("\nphase lock modes: " + ", ".join(f"{t - started:.0f} s {m}" for t, m in watcher.modes))
    print("per minute (age mean / max):")
    for minute in range(int(args.seconds // 60) + 1):
        part = [age for at, age in found if started + 60 * minute <= at < started + 60 * (minute + 1)]
        if part:
            print(f"  minute {minute + 1}: {sum(part) / len(part):.2f} s / {max(part):.2f} s ({len(part)} updates)")
    summary("converging", [age for at, age in found if at < settle], watcher.counts_between(started, settle))
    after = summary("locked", [age for at, age in found if at >= settle], watcher.counts_between(settle, ended))
    in_flight = max((c["in_flight"] for _, c in watcher.counters), default=0)
    print(f"  seq gaps {client.gaps}, resyncs {client.resyncs}, max in flight at the simulator {in_flight}")
    if not analytics:
        return lock_report(watcher, client, found, started, ended, jumped, args.jump, in_flight, args.trace)
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


def lock_report(watcher: Watcher, client: BoardClient, found: list[tuple[float, float]], started: float,
                ended: float, jumped: list[float], jump: float, in_flight: int, trace: bool = False) -> int:
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
    print("\nphase lock (issue 23):")
    for i, (name, at, moved) in enumerate(events):
        until = events[i + 1][1] if i + 1 < len(events) else ended
        lock = watcher.locked_at(at, moved)
        if lock is None or lock >= until:
            ok &= verdict(f"locked after {name}", False, "never")
            continue
        ok &= verdict(f"locked after {name}", lock - at <= LOCK_TARGET,
                      f"{lock - at:.1f} s (target <= {LOCK_TARGET:.0f} s)")
        part = [age for t, age in found if lock <= t < until]
        locked_ages += part
        seg = watcher.counts_between(max(lock, started), until)
        counts = {k: counts[k] + seg[k] for k in counts}
        if part:
            print(f"    then {len(part)} updates: age mean {sum(part) / len(part):.2f} s, max {max(part):.2f} s")
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
