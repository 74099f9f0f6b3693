"""Polling in step with 8x8's 10-second cache, and never a second request while one may be in flight."""

from __future__ import annotations

import math

import pytest

from tests.pipeline_helpers import Clock, make_board
from wallboard.live import store
from wallboard.polling.cycle import poll_tenant
from wallboard.polling.dispatch import hold_upstream, upstream_held
from wallboard.polling.phase import PHASE_PROBE_EVERY, PHASE_STEP, fingerprint, plan_next_poll
from wallboard.simulator.server import SimulatorServer
from wallboard.vcc.records import Agent, Queue

INTERVAL = 10.0


def run_phase_lock(refresh_phase: float, start: float, cycles: int, lateness: float = 0.0) -> list[tuple[float, int]]:
    """Drive plan_next_poll against an upstream refreshing at refresh_phase + 10 k; return (time, window)."""
    t, polls = start, []
    for _ in range(cycles):
        window = math.floor((t - refresh_phase) / INTERVAL)
        polls.append((t, window))
        t = plan_next_poll(1, INTERVAL, t, f"data {window}") + lateness
    return polls


def fresh_ages(polls: list[tuple[float, int]], refresh_phase: float) -> list[float]:
    """How old the data was at each poll that brought new data (what the screens get to see)."""
    return [t - (refresh_phase + w * INTERVAL) for (t, w), (_, before) in zip(polls[1:], polls, strict=False)
            if w != before]


@pytest.mark.parametrize("offset", [0.3, 2.5, 5.0, 7.7, 9.9])
def test_it_locks_on_just_after_the_refresh_within_twelve_cycles(redis_client, offset):
    polls = run_phase_lock(refresh_phase=1000.0, start=1000.0 + offset, cycles=60)
    steady = polls[15:]
    assert max(fresh_ages(steady, 1000.0)) <= PHASE_STEP + 1e-6
    # One call per upstream window, but for the rare probe that lands just before a refresh.
    windows = [w for _, w in steady]
    extra = len(windows) - len(set(windows))
    assert extra <= len(steady) // PHASE_PROBE_EVERY + 1


def test_it_does_not_drift_late_when_the_worker_runs_late(redis_client):
    polls = run_phase_lock(refresh_phase=1000.0, start=1004.0, cycles=80, lateness=0.08)
    assert max(fresh_ages(polls[20:], 1000.0)) <= PHASE_STEP + 0.1


def answer(refreshed: float) -> str:
    """An answer as fingerprinted: agents' time in status grows with upstream's clock, as 8x8's does."""
    agents = [Agent(f"a{i}", time_in_status=int(refreshed - since)) for i, since in enumerate((500.5, 900.2, 1300.7))]
    return fingerprint(agents, [Queue("q1", day_queued=round(refreshed))])


def test_it_follows_an_upstream_whose_refresh_moved(redis_client):
    t = 1003.0
    for _ in range(30):
        t = plan_next_poll(1, INTERVAL, t, answer(1000.0 + INTERVAL * math.floor((t - 1000.0) / INTERVAL)))
    after = []
    moved = 1000.0 + 4.0  # upstream restarted: its refresh now comes 4 s later in the cycle
    for _ in range(30):
        window = math.floor((t - moved) / INTERVAL)
        after.append((t, window))
        # New data at once (the restart rebuilt the cache), then every 10 s, only 6 s older than
        # before: the agents' time in status tells (wallboard.polling.phase.upstream_advance).
        t = plan_next_poll(1, INTERVAL, t, answer(moved + INTERVAL * window))
    assert max(fresh_ages(after[10:], moved)) <= PHASE_STEP + 1e-6


def test_it_polls_a_quiet_tenant_once_an_interval(redis_client):
    t, times = 1000.0, []
    for _ in range(12):
        times.append(t)
        t = plan_next_poll(1, INTERVAL, t, "nothing moves")
    gaps = [b - a for a, b in zip(times[4:], times[5:], strict=False)]
    assert gaps == [INTERVAL] * len(gaps)


# --- the hold after an abandoned request ------------------------------------------------------


@pytest.fixture
def sim(redis_client):
    server = SimulatorServer(port=0, agents=20, queues=4, seed=3, clock=Clock())
    server.start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_it_sends_nothing_upstream_while_an_abandoned_request_may_still_run(sim, settings):
    settings.VCC_READ_TIMEOUT = 0.5
    settings.WALLBOARD_ABANDONED_HOLD = 30
    tenant, board, _ = make_board(sim.base_url, slug="held")
    assert poll_tenant(tenant.pk).outcome == "ok"
    sim.faults.add("latency", ms=1500, target="rtstats")
    assert poll_tenant(tenant.pk).outcome == "timeout"
    assert upstream_held(tenant.pk)
    sim.faults.clear()
    sim.reset_counters()
    before = store.load_head(board.slug)
    result = poll_tenant(tenant.pk)
    assert result.outcome == "held"
    assert sim.state()["requests_by_api"]["rtstats"] == 0
    after = store.load_head(board.slug)
    assert after.epoch == before.epoch and after.seq == before.seq + 1  # an empty patch: screens know we live
    assert after.status["state"] == "unreachable"


@pytest.mark.django_db(transaction=True)
def test_it_polls_again_when_the_hold_is_over(sim, settings):
    tenant, board, _ = make_board(sim.base_url, slug="after")
    hold_upstream(tenant.pk, 0.05)
    import time

    time.sleep(0.1)
    assert poll_tenant(tenant.pk).outcome == "ok"
