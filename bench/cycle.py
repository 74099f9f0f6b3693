"""CPU per poll cycle: parse, compute boards, diff, serialise (no network, no Redis).

The functions are the publishing path's own (wallboard.live.boards): compute_boards sharing
what boards have in common, make_patch with one memo per cycle, the patch text of
wallboard.live.messages, each board's StateSerialiser with one memo per cycle; only the Redis
writes and the sends are left out.

Usage: .venv/bin/python bench/cycle.py [--agents 2000] [--queues 300] [--boards 20] [--cycles 30]
                                    [--source statistics|analytics]

With `--source analytics` the bodies are the Analytics API's pages (bench/analytics.py), one set
per 5 s, parsed by its client's parser; the rest of the cycle is the same.

Bodies come from the simulator's contact-center model, one per 10 s of simulated time, so each
cycle's patch is what a real busy morning would produce. Two board layouts are measured:
"typical" (each board shows 15 queues, one queue group and two agent groups) and "everything"
(each board shows every queue and every agent: the worst case).

Each cycle is set against its floor, `orjson.loads` of the same cycle's JSON bodies, timed just
before or after it in turn (bench/floor.py); the XML cycles against the JSON floor too. Target:
a typical JSON cycle <= 4x that floor (the median of the per-cycle ratios); the exit status
says whether it is met. The "everything" layout's cycle is printed against the Intel machine's
30 ms (issue 21), a note as the typical layout's 30 ms is.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wallboard.settings")

import django  # noqa: E402

django.setup()

from bench import analytics as analytics_bench  # noqa: E402
from bench import floor  # noqa: E402
from wallboard.boards.models import DEFAULT_QUEUE_METRICS  # noqa: E402
from wallboard.boards.state import (  # noqa: E402
    BoardConfig,
    GroupConf,
    QueueConf,
    TenantSnapshot,
    ThresholdConf,
    compute_boards,
)  # noqa: E402
from wallboard.live import messages, store  # noqa: E402
from wallboard.live.diff import make_patch  # noqa: E402
from wallboard.polling import collector  # noqa: E402
from wallboard.simulator.model import ContactCenter  # noqa: E402
from wallboard.simulator.render import render_stats  # noqa: E402
from wallboard.vcc.parse import parse_agents, parse_queues  # noqa: E402

TARGET_MS = 30.0  # the absolute target on the Intel machine of docs/performance.md (a note now)
TARGET_RATIO = 4.0  # a typical cycle (parse + boards + diff + serialise) / the JSON floor (issue 23)

# What a new board shows (the admin's default).
METRICS = tuple(DEFAULT_QUEUE_METRICS)
THRESHOLDS = (
    ThresholdConf("queue_size", "", "above", 3, 6),
    ThresholdConf("longest_wait_time", "", "above", 60, 180),
    ThresholdConf("sla_activity", "", "below", 80, 60),
)


def boards(layout: str, n_boards: int, queue_ids: list[str], group_ids: list[str]) -> list[BoardConfig]:
    configs = []
    for b in range(n_boards):
        if layout == "everything":
            mine = queue_ids
            agent_groups = {}
        else:
            start = (b * 15) % max(1, len(queue_ids))
            mine = [queue_ids[(start + i) % len(queue_ids)] for i in range(min(15, len(queue_ids)))]
            agent_groups = {g: f"Group {g}" for g in (group_ids[(2 * b) % len(group_ids)], group_ids[(2 * b + 1) % len(group_ids)])}
        configs.append(BoardConfig(
            slug=f"b{b}", title=f"Board {b}", queue_metrics=METRICS,
            queues=tuple(QueueConf(q) for q in mine),
            groups=(GroupConf(f"g{b}", "Group", tuple(mine[:5])),),
            agent_groups=agent_groups, thresholds=THRESHOLDS,
        ))
    return configs


SERIALISERS: dict[str, store.StateSerialiser] = {}
HEAD = store.BoardHead("0123456789ab", 1000, "2026-11-18T10:00:00+00:00", "{}")


def cycle(agent_body: bytes, queue_body: bytes, configs, previous: dict, now: int) -> tuple[dict, int]:
    """One cycle as the poller runs it (parse, boards, diff, serialise); returns states, patch bytes."""
    snapshot = TenantSnapshot.from_records(*parse_bodies(agent_body, queue_body))
    states = compute_boards(configs, snapshot, {}, previous, now)
    patch_bytes = 0
    memo: dict = {}
    fragment_memo: store.Memo = {}
    for config in configs:
        old = previous.get(config.slug)
        ops = make_patch(old, states[config.slug], memo) if old is not None else []
        patch_bytes += len(messages.patch_text(config.slug, HEAD, ops))
        # As the poller stores it: only the fragments of entries that changed are serialised,
        # those boards share once (one memo per cycle, as BoardCycle keeps).
        SERIALISERS.setdefault(config.slug, store.StateSerialiser()).update(states[config.slug], fragment_memo)
    return states, patch_bytes


def parse_bodies(agent_body, queue_body) -> tuple[list, list]:
    """The statistics API's parse, or (pages: --source analytics) the Analytics client's."""
    if isinstance(agent_body, list):
        return analytics_bench.parse_pages(agent_body, queue_body)
    return parse_agents(agent_body), parse_queues(queue_body)


def snapshot_bytes(configs) -> int:
    """What snapshots of every board would weigh now (outside the timed part)."""
    return sum(len(store.assemble(SERIALISERS[c.slug].fields())) for c in configs)


def warm_up(center, configs, start: float) -> dict:
    """Board states as after an hour of running: a full hour of sparkline history."""
    states: dict = {}
    for minute in range(60, 0, -1):
        t = start - 60 * minute
        agents, queues = center.at(t)
        rendered = render_stats(agents, queues)
        snapshot = TenantSnapshot.from_records(parse_agents(rendered.body("agent", "json")),
                                               parse_queues(rendered.body("queue", "json")))
        states = compute_boards(configs, snapshot, {}, states, int(t))
    return states


def run(args) -> bool:
    start = datetime(2026, 11, 18, 10, 0, tzinfo=UTC).timestamp()  # a Wednesday morning
    center = ContactCenter(seed=7, n_agents=args.agents, n_queues=args.queues)
    analytics = args.source == "analytics"
    step = 5 if analytics else 10  # each source's refresh
    bodies = {"json": []} if analytics else {"json": [], "xml": []}
    for i in range(args.cycles + 1):
        if analytics:
            bodies["json"].append(analytics_bench.bodies(center, start + step * i))
            continue
        agents, queues = center.at(start + 10 * i)
        rendered = render_stats(agents, queues)
        for fmt in bodies:
            bodies[fmt].append((rendered.body("agent", fmt), rendered.body("queue", fmt)))
    sample_agents, sample_queues = parse_bodies(*bodies["json"][0])
    queue_ids = [q.queue_id for q in sample_queues]
    group_ids = sorted({a.group_id for a in sample_agents if a.group_id})
    if not args.default_gc:
        collector.tune()  # as every worker process does
    print(f"{args.agents} agents, {args.queues} queues, {args.boards} boards, {args.cycles} cycles; "
          + (f"source analytics: {len(bodies['json'][0][0])} agent pages of "
             f"{sum(map(len, bodies['json'][0][0])) / 1024:.0f} KiB JSON in all" if analytics else
             f"agents body {len(bodies['json'][0][0]) / 1024:.0f} KiB JSON / {len(bodies['xml'][0][0]) / 1024:.0f} KiB XML"))
    typical_ratio = float("nan")
    medians: dict[tuple[str, str], float] = {}
    for layout in ("typical", "everything"):
        configs = boards(layout, args.boards, queue_ids, group_ids)
        warm = warm_up(center, configs, start)
        for fmt in bodies:
            SERIALISERS.clear()
            previous, _ = cycle(*bodies[fmt][0], configs, warm, int(start))
            times, ratios, floors = [], [], []
            for i in range(1, args.cycles + 1):
                # The JSON floor of this cycle's bodies, before or after it in turn (bench/floor.py).
                json_bodies = floor_bodies(bodies["json"][i])
                if i % 2:
                    floors.append(floor.cpu_ms(lambda b=json_bodies: floor.json_floor(b)))
                t0 = time.process_time()
                previous, patch_bytes = cycle(*bodies[fmt][i], configs, previous, int(start + step * i))
                times.append((time.process_time() - t0) * 1000)
                if not i % 2:
                    floors.append(floor.cpu_ms(lambda b=json_bodies: floor.json_floor(b)))
                snapshot_total = snapshot_bytes(configs)
                ratios.append(100 * patch_bytes / snapshot_total)
            over_floor = floor.ratio(times, floors)
            if layout == "typical" and fmt == "json":
                typical_ratio = over_floor
            times.sort()
            medians[layout, fmt] = statistics.median(times)
            print(f"  {layout:10s} {fmt:4s}: cycle CPU median {statistics.median(times):6.1f} ms, "
                  f"p95 {times[int(0.95 * (len(times) - 1))]:6.1f} ms; patch/snapshot median "
                  f"{statistics.median(ratios):4.2f} %, max {max(ratios):4.2f} %; snapshot {snapshot_total / args.boards / 1024:.0f} KiB/board")
            print(f"  {'':10s} {'':4s}  JSON floor (orjson.loads) median {statistics.median(floors):5.1f} ms; "
                  f"cycle / floor {over_floor:5.2f}x")
    for fmt in bodies:
        # Issue 21: what boards share is built, diffed and serialised once a cycle, not once a board.
        everything = medians["everything", fmt]
        print(f"everything {fmt}: {everything:.1f} ms a cycle of {args.boards} boards ({everything / args.boards:.2f} ms a board), "
              f"{everything / medians['typical', fmt]:.2f}x the typical layout; "
              f"note, the Intel machine's target <= {TARGET_MS:.0f} ms a cycle: {'met' if everything <= TARGET_MS else 'NOT met'} here")
    if analytics:  # pages of only the fields boards use: a smaller floor, and not what the target is about
        print(f"typical cycle / JSON floor {typical_ratio:.2f}x (the {TARGET_RATIO:.0f}x target is the statistics source's)")
        return True
    ok = typical_ratio <= TARGET_RATIO
    print(f"target typical JSON cycle <= {TARGET_RATIO:.0f}x the JSON floor (median of interleaved cycles): "
          f"{typical_ratio:.2f}x, {'met' if ok else 'NOT met'}")
    print(f"(note, the Intel machine's absolute target: <= {TARGET_MS:.0f} ms per typical cycle)")
    return ok


def floor_bodies(pair) -> list[bytes]:
    """The JSON bodies of one cycle: the agents and queues answers, or every page of them."""
    agents, queues = pair
    return [*agents, *queues] if isinstance(agents, list) else [agents, queues]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--queues", type=int, default=300)
    parser.add_argument("--boards", type=int, default=20)
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--source", choices=("statistics", "analytics"), default="statistics",
                        help="the statistics source whose answers are parsed (default statistics)")
    parser.add_argument("--default-gc", action="store_true", help="keep CPython's collector settings (workers tune them)")
    args = parser.parse_args()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    print(f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    return 0 if run(args) else 1


if __name__ == "__main__":
    sys.exit(main())
