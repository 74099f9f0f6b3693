"""The simulator's request log: every statistics cache build, and the build each request got.

bench/freshness.py reads it (`GET /_sim/request-log`) to say, for each poll, how far its calls
fell from the refresh whose data they got, and to find a refresh between a poll's two calls.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import requests

from tests.pipeline_helpers import Clock
from wallboard.simulator.server import SimulatorServer

START = datetime(2026, 3, 4, 11, 0, 0, tzinfo=UTC).timestamp()
AUTH = ("demo", "demo-token")


@pytest.fixture
def clock():
    return Clock(START)


@pytest.fixture
def sim(clock):
    server = SimulatorServer(port=0, agents=40, queues=6, seed=3, clock=clock)
    server.start()
    yield server
    server.stop()


def get(sim, path: str, auth=AUTH) -> requests.Response:
    return requests.get(sim.base_url + path, auth=auth, timeout=10)


def test_it_logs_which_refresh_each_call_got(sim, clock):
    since = time.time()
    get(sim, "/api/rtstats/stats/agents.json")
    clock.t = START + 10  # a refresh between the agents call and the queues call
    get(sim, "/api/rtstats/stats/queues.json")

    log = get(sim, f"/_sim/request-log?since={since}", auth=None).json()

    agents, queues = log["requests"]
    assert (agents["kind"], queues["kind"]) == ("agents", "queues")
    assert queues["generation"] == agents["generation"] + 1
    assert agents["received"] <= agents["answered"] <= queues["received"]
    built = {r["generation"]: r for r in log["refreshes"]}
    assert built[queues["generation"]]["window_start"] == START + 10
    assert built[agents["generation"]]["window_start"] == START
    assert built[queues["generation"]]["began"] <= built[queues["generation"]]["ended"] <= queues["answered"]


def test_it_answers_only_what_came_after_since(sim, clock):
    get(sim, "/api/rtstats/stats/agents.json")
    since = time.time()
    get(sim, "/api/rtstats/stats/queues.json")

    log = get(sim, f"/_sim/request-log?since={since}", auth=None).json()

    assert [r["kind"] for r in log["requests"]] == ["queues"]
    # The refresh the first call after `since` was answered from is there, though built before.
    assert [r["window_start"] for r in log["refreshes"]] == [START]


def test_it_refuses_a_since_that_is_not_a_number(sim):
    assert get(sim, "/_sim/request-log?since=yesterday", auth=None).status_code == 400
