"""The simulation behaves like a contact center and its numbers agree with each other."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
import requests

from wallboard.simulator.model import ContactCenter
from wallboard.simulator.server import SimulatorServer

MORNING = datetime(2026, 3, 4, 9, 0, tzinfo=UTC).timestamp()
DAY_COUNTERS_Q = ["day-queued", "day-accepted", "day-abandoned"]
DAY_COUNTERS_A = ["day-accepted-count", "day-rejected-count", "day-login-time", "day-available-time",
                  "day-break-time", "day-offline-time", "day-processing-time", "day-wrap-up-time"]
PAIRS_Q = [("thirty-min-queued", "day-queued"), ("thirty-min-accepted", "day-accepted"),
           ("thirty-min-abandoned", "day-abandoned")]
PAIRS_A = [("thirty-min-accepted-count", "day-accepted-count"), ("thirty-min-rejected-count", "day-rejected-count"),
           ("thirty-min-available-time", "day-available-time"), ("thirty-min-break-time", "day-break-time"),
           ("thirty-min-offline-time", "day-offline-time"), ("thirty-min-processing-time", "day-processing-time"),
           ("thirty-min-wrap-up-time", "day-wrap-up-time")]


@pytest.fixture(scope="module")
def timeline():
    """Agents and queues every 10 s for 40 minutes of a weekday morning (crosses a half hour)."""
    cc = ContactCenter(seed=4, n_agents=80, n_queues=10)
    return [(t, *cc.at(t)) for t in range(int(MORNING), int(MORNING) + 2400, 10)]


def check_invariants(cc: ContactCenter, agents: list[dict], queues: list[dict]) -> None:
    status = {a["agent-id"]: a["agent-status"] for a in agents}
    slot = {1: "agent-count-busy", 2: "agent-count-busy", 9: "agent-count-loggedOut", 4: "agent-count-onBreak",
            3: "agent-count-postProcess", 0: "agent-count-waitTransact", 5: "agent-count-workOffline"}
    expected = {q.queue_id: Counter() for q in cc.roster.queues}
    for a in cc.roster.agents:
        for qi in a.enabled:
            expected[cc.roster.queues[qi].queue_id][slot[status[a.agent_id]]] += 1
    for q in queues:
        counts = expected[q["queue-id"]]
        for name in set(slot.values()):
            assert q[name] == counts[name], (q["queue-id"], name)
        assert sum(counts.values()) == q["enabled-agent-count"] <= q["assigned-agent-count"]
        assert q["day-accepted"] + q["day-abandoned"] <= q["day-queued"]
        for small, big in PAIRS_Q:
            assert 0 <= q[small] <= q[big]
        assert q["queue-size"] >= 0 and q["number-in-offered"] >= 0
        assert (q["queue-size"] == 0) == (q["longest-wait-time"] == 0) or q["longest-wait-time"] == 0
        for sla in ("sla-activity", "day-sla-activity", "thirty-min-sla-activity"):
            assert q[sla] == -1 or 0 <= q[sla] <= 100
    for a in agents:
        for small, big in PAIRS_A:
            assert 0 <= a[small] <= a[big], (a["agent-id"], small)
        parts = sum(a[k] for k in ("day-available-time", "day-break-time", "day-offline-time",
                                   "day-processing-time", "day-wrap-up-time"))
        assert abs(a["day-login-time"] - parts) <= 5  # each part is rounded down on its own
        if a["agent-status"] in (4, 5):
            assert a["status-code-item-short-code"]
        else:
            assert a["status-code-item-id"] == ""
    assert sum(a["day-accepted-count"] for a in agents) == sum(q["day-accepted"] for q in queues)
    assert sum(q["number-in-offered"] for q in queues) == sum(1 for a in agents if a["agent-status"] == 1)
    assert sum(q["number-in-progress"] for q in queues) == sum(1 for a in agents if a["agent-status"] in (2, 3))


def test_it_keeps_its_numbers_consistent_at_every_refresh(timeline):
    cc = ContactCenter(seed=4, n_agents=80, n_queues=10)
    for t, _, _ in timeline[::12]:
        agents, queues = cc.at(t)
        check_invariants(cc, agents, queues)


def test_it_only_grows_day_counters_within_a_day(timeline):
    for (_, agents0, queues0), (_, agents1, queues1) in zip(timeline, timeline[1:], strict=False):
        for q0, q1 in zip(queues0, queues1, strict=True):
            for name in DAY_COUNTERS_Q:
                assert q1[name] >= q0[name]
        for a0, a1 in zip(agents0, agents1, strict=True):
            for name in DAY_COUNTERS_A:
                assert a1[name] >= a0[name]


def test_it_moves_agents_through_every_state(timeline):
    seen = Counter(a["agent-status"] for _, agents, _ in timeline for a in agents)
    assert set(seen) == {0, 1, 2, 3, 4, 5, 9}
    changed = sum(1 for a0, a1 in zip(timeline[0][1], timeline[-1][1], strict=True)
                  if a0["agent-status"] != a1["agent-status"])
    assert changed > 10


def test_it_walks_agents_available_offered_busy_post_available(timeline):
    transitions = Counter()
    for (_, agents0, _), (_, agents1, _) in zip(timeline, timeline[1:], strict=False):
        for a0, a1 in zip(agents0, agents1, strict=True):
            transitions[(a0["agent-status"], a1["agent-status"])] += 1
    for step in [(0, 1), (1, 2), (2, 3), (3, 0)]:
        assert transitions[step] > 0, step


def test_it_brings_interactions_that_wait_and_are_answered_or_abandoned(timeline):
    _, _, queues = timeline[-1]
    assert sum(q["day-queued"] for q in queues) > 50
    assert sum(q["day-accepted"] for q in queues) > 0
    assert sum(q["day-abandoned"] for q in queues) > 0
    assert any(q["queue-size"] > 0 for _, _, qs in timeline for q in qs)
    assert any(q["longest-wait-time"] > 0 for _, _, qs in timeline for q in qs)


def test_it_resets_thirty_minute_counters_on_the_half_hour(timeline):
    by_time = {t: queues for t, _, queues in timeline}
    before, after = by_time[int(MORNING) + 1790], by_time[int(MORNING) + 1800]
    assert sum(q["thirty-min-queued"] for q in after) < sum(q["thirty-min-queued"] for q in before)
    assert sum(q["day-queued"] for q in after) >= sum(q["day-queued"] for q in before)


def test_it_puts_agents_in_a_few_groups():
    cc = ContactCenter(seed=1, n_agents=100, n_queues=12)
    agents, _ = cc.at(MORNING)
    groups = Counter(a["group-id"] for a in agents)
    assert 2 <= len(groups) <= 12
    assert all(a["enabled-skill-count"] <= a["assigned-skill-count"] for a in agents)


def test_it_starts_each_day_from_zero():
    cc = ContactCenter(seed=2, n_agents=40, n_queues=6)
    late = datetime(2026, 3, 4, 23, 50, tzinfo=UTC).timestamp()
    _, queues_late = cc.at(late)
    _, queues_new = cc.at(late + 15 * 60)  # 00:05 the next day
    assert sum(q["day-queued"] for q in queues_new) < sum(q["day-queued"] for q in queues_late)
    check_invariants(cc, *cc.at(late + 20 * 60))


def test_it_has_agents_on_night_shift_at_midnight():
    cc = ContactCenter(seed=2, n_agents=200, n_queues=6)
    agents, _ = cc.at(datetime(2026, 3, 5, 0, 0, 10, tzinfo=UTC).timestamp())
    assert any(a["agent-status"] != 9 for a in agents)


def test_it_serves_the_same_invariants_over_http():
    t = MORNING + 3600
    server = SimulatorServer(port=0, agents=50, queues=8, seed=9, clock=lambda: t)
    server.start()
    try:
        auth = ("demo", "demo-token")
        agents = requests.get(server.base_url + "/api/rtstats/stats/agents.json", auth=auth, timeout=10).json()["agent"]
        queues = requests.get(server.base_url + "/api/rtstats/stats/queues.json", auth=auth, timeout=10).json()["queue"]
        check_invariants(server.model, agents, queues)
    finally:
        server.stop()
