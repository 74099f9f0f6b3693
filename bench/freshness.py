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

Targets after convergence: mean age <= 1.5 s, max <= 3 s, at most 1.1 calls per endpoint per
refresh (one, plus the phase lock's occasional probe). Exit status 0 when met, 1 otherwise.

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

MEAN_TARGET = 1.5
MAX_TARGET = 3.0
CALLS_TARGET = 1.1
# A request that arrives while the simulator rebuilds its cache waits and gets the new data.
REBUILD_SLACK = 0.5


class Watcher:
    """Samples the simulator's refresh times, request counters and the phase lock's mode."""

    def __init__(self, stack):
        self.stack = stack
        self.refreshes: set[float] = set()
        self.counters: list[tuple[float, dict]] = []
        self.modes: list[tuple[float, str]] = []
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
                mode = (client.hget(keys[0], "mode") or b"?").decode()
                if not self.modes or self.modes[-1][1] != mode:
                    self.modes.append((now, mode))
            self.stop.wait(0.25)

    def counts_between(self, start: float, end: float) -> dict:
        inside = [c for t, c in self.counters if start <= t <= end]
        if len(inside) < 2:
            return {"agents": 0, "queues": 0, "refreshes": 0}
        first, last = inside[0], inside[-1]
        return {k: last[k] - first[k] for k in ("agents", "queues", "refreshes")}


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
    args = parser.parse_args(argv)
    print(machine())
    analytics = args.source == "analytics"
    stack = start_stack(args.agents, args.queues)
    watcher = analytics_bench.AnalyticsWatcher(stack, sim, redis_client) if analytics else Watcher(stack)
    try:
        wait_until(lambda: board_ready(stack), 90, what="first board state")
        if analytics:
            analytics_bench.use_analytics(stack)
            sim(stack, "/_sim/analytics/reset-counters", {})
        url, headers = ws_target(stack, display_cookie(stack))
        sim(stack, "/_sim/reset-counters", {})
        watcher.thread.start()
        started = time.time()
        print(f"watching for {args.seconds:.0f} s ...", flush=True)
        client = asyncio.run(watch(url, headers, args.seconds))
        ended = time.time()
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


if __name__ == "__main__":
    sys.exit(main())
