"""The Analytics API (v5) source in the benchmarks: `--source analytics` of bench/cycle.py and bench/freshness.py.

cycle.py: the pages the simulator would answer (the client's own metric lists, 1,000 entities a
page) built from the same contact-centre model, and the client's own parser over them.

freshness.py: the demo tenant switched to the Analytics source (the simulator's demo key and
secret); the upstream refresh times are the simulator's 5 s windows (`/_sim/analytics`
`last_refresh_ms`, simulated time, which at speed 1 is the wall clock); calls are counted in
pages per refresh, against the pages a refresh needs (agents and queues at 1,000 a page).
"""

from __future__ import annotations

import json
import math
import threading
import time

from wallboard.simulator.analytics import _build, _with_metrics
from wallboard.vcc.analytics import BOARD_AGENT_METRICS, PAGE_SIZE, QUEUE_METRICS
from wallboard.vcc.parse import analytics as parse

MEAN_TARGET = 1.0
MAX_TARGET = 2.0
PROBE_SLACK = 1.1  # the phase lock's occasional probe costs one more round of pages


# --- cycle.py ------------------------------------------------------------------------------------


def _pages(entities: list[dict], metrics: tuple[str, ...]) -> list[bytes]:
    chosen = [_with_metrics(e, metrics) for e in entities]
    return [json.dumps(chosen[i:i + PAGE_SIZE], separators=(",", ":")).encode()
            for i in range(0, max(1, len(chosen)), PAGE_SIZE)]


def bodies(center, t: float) -> tuple[list[bytes], list[bytes]]:
    """(agent pages, queue pages) as the simulator answers the poller at simulated time t."""
    agents, queues = center.at(t)
    built = _build(t, agents, queues, center.today)
    return _pages(built["agents"], BOARD_AGENT_METRICS), _pages(built["queues"], QUEUE_METRICS)


def parse_pages(agent_pages: list[bytes], queue_pages: list[bytes]) -> tuple[list, list]:
    """The client's parse of every page (the HTTP part is left out, as cycle.py leaves it out)."""
    agents = [a for page in agent_pages for a in parse.records(page, parse.agent_record)]
    queues = [q for page in queue_pages for q in parse.records(page, parse.queue_record)]
    return agents, queues


# --- freshness.py -----------------------------------------------------------------------------------


def use_analytics(stack) -> None:
    """Switch the demo tenant to the Analytics source (poll interval 5 s) and make it due now."""
    stack.manage("shell", "-c", (
        "from wallboard.boards.models import Tenant\n"
        "from wallboard.polling.dispatch import poll_now\n"
        "t = Tenant.objects.get()\n"
        "t.source = 'analytics'\n"
        "t.analytics_client_id, t.analytics_client_secret = 'demo-client', 'demo-secret'\n"
        f"t.analytics_base_url = '{stack.sim_url}'\n"
        "t.full_clean()\n"
        "t.save()\n"
        "poll_now(t.pk)\n"
    ))


def pages_needed(agents: int, queues: int) -> int:
    return math.ceil(agents / PAGE_SIZE) + math.ceil(queues / PAGE_SIZE)


class AnalyticsWatcher:
    """freshness.py's Watcher for this source: 5 s refreshes, pages instead of calls."""

    def __init__(self, stack, sim, redis_client):
        self.stack, self.sim, self.redis_client = stack, sim, redis_client
        self.refreshes: set[float] = set()
        self.counters: list[tuple[float, dict]] = []
        self.modes: list[tuple[float, str]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        client = self.redis_client(self.stack)
        keys: list = []
        while not self.stop.is_set():
            state = self.sim(self.stack, "/_sim/analytics")
            now = time.time()
            self.refreshes.add(state["last_refresh_ms"] / 1000)
            pages = state["requests"].get("metrics", 0)
            # Both counts are pages; the freshness report divides each by the refreshes.
            self.counters.append((now, {"agents": pages, "queues": pages, "refreshes": state["refresh_count"],
                                        "in_flight": state["max_in_flight"], "tokens": state["tokens_issued"]}))
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
