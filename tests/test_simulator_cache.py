"""The statistics answer is a cache refreshed every 10 s of simulated time; same seed, same data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from tests.pipeline_helpers import Clock
from wallboard.simulator.server import SimulatorServer

START = datetime(2026, 3, 4, 11, 0, 0, tzinfo=UTC).timestamp()
PATHS = ["/api/rtstats/stats/agents.json", "/api/rtstats/stats/queues", "/api/rtstats/stats/queues.json"]


@pytest.fixture
def clock():
    return Clock(START)


@pytest.fixture
def sim(clock):
    server = SimulatorServer(port=0, agents=60, queues=8, seed=7, clock=clock)
    server.start()
    yield server
    server.stop()


def fetch(sim, path: str) -> bytes:
    r = requests.get(sim.base_url + path, auth=("demo", "demo-token"), timeout=10)
    assert r.status_code == 200
    return r.content


def test_it_answers_identical_bodies_within_a_window(sim, clock):
    first = [fetch(sim, p) for p in PATHS]
    for offset in (1, 4.5, 9.999):
        clock.t = START + offset
        assert [fetch(sim, p) for p in PATHS] == first


def test_it_answers_new_bodies_after_a_refresh(sim, clock):
    before = fetch(sim, PATHS[0])
    clock.t = START + 10
    assert fetch(sim, PATHS[0]) != before


def test_it_counts_refreshes_and_reports_the_refresh_time(sim, clock):
    sim.reset_counters()
    for step in range(5):
        clock.t = START + 10 * step + 3
        fetch(sim, PATHS[1])
    state = sim.state()
    assert state["refresh_count"] == 4  # the first window was already built
    assert state["last_refresh_ms"] == int((START + 40) * 1000)
    assert state["now_ms"] == int((START + 43) * 1000)


def test_it_gives_the_same_data_for_the_same_seed_and_clock(clock):
    bodies = []
    for _ in range(2):
        server = SimulatorServer(port=0, agents=30, queues=5, seed=11, clock=clock)
        server.start()
        try:
            bodies.append([fetch(server, p) for p in PATHS])
        finally:
            server.stop()
    assert bodies[0] == bodies[1]


def test_it_gives_the_same_data_however_the_clock_was_stepped():
    stepped = Clock(START)
    a = SimulatorServer(port=0, agents=30, queues=5, seed=5, clock=stepped)
    for k in range(0, 600, 10):
        stepped.t = START + k
        a.stats()
    stepped.t = START + 600
    b = SimulatorServer(port=0, agents=30, queues=5, seed=5, clock=lambda: START + 600)
    assert a.stats().lists == b.stats().lists


def test_it_gives_different_data_for_another_seed(clock):
    a = SimulatorServer(port=0, agents=30, queues=5, seed=1, clock=clock)
    b = SimulatorServer(port=0, agents=30, queues=5, seed=2, clock=clock)
    assert a.stats().lists[("agent", "json")] != b.stats().lists[("agent", "json")]


def test_it_refreshes_by_itself_on_its_own_clock():
    # A very fast simulated clock: several windows pass during the test without anyone asking.
    server = SimulatorServer(port=0, agents=5, queues=2, seed=1, speed=500.0)
    server.start()
    try:
        import time

        deadline = time.monotonic() + 10
        while server.state()["refresh_count"] < 3:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        server.stop()


def refresh_ms(sim) -> int:
    return requests.get(sim.base_url + "/_sim/state", timeout=10).json()["last_refresh_ms"]


def test_it_moves_its_refresh_phase_from_the_next_refresh_on(sim, clock):
    clock.t = START + 8
    served = fetch(sim, PATHS[0])
    moved = requests.post(sim.base_url + "/_sim/config", json={"refresh_phase": 9}, timeout=10)

    assert moved.status_code == 200 and moved.json()["refresh_phase"] == 9
    clock.t = START + 8.9  # the new phase's window began at START - 1: older than the one served, kept
    assert fetch(sim, PATHS[0]) == served and refresh_ms(sim) == START * 1000
    clock.t = START + 9
    assert fetch(sim, PATHS[0]) != served and refresh_ms(sim) == (START + 9) * 1000
    served = fetch(sim, PATHS[0])
    clock.t = START + 18.9  # the old phase's refresh (START + 10) no longer happens
    assert fetch(sim, PATHS[0]) == served


def test_it_moves_its_refresh_phase_earlier(sim, clock):
    served = fetch(sim, PATHS[0])
    sim.set_refresh_phase(-3)  # 3 s earlier: refreshes at 7 s past each 10 s

    clock.t = START + 6.9
    assert fetch(sim, PATHS[0]) == served
    clock.t = START + 7
    assert fetch(sim, PATHS[0]) != served and refresh_ms(sim) == (START + 7) * 1000


@pytest.mark.parametrize("body", ['{"refresh_phase": "3"}', '{"refresh_phase": true}', '{"refresh_phase": null}',
                                  '{"refresh_phase": NaN}'])
def test_it_refuses_a_refresh_phase_that_is_not_a_number(sim, body):
    answer = requests.post(sim.base_url + "/_sim/config", data=body, timeout=10)

    assert answer.status_code == 400
    assert sim.refresh_phase == 0
