"""Basic auth (403 statistics, 401 schedules) and the one-request-in-flight rule (503)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import requests

from tests.helpers import wait_for
from wallboard.simulator.server import SimulatorServer

NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC).timestamp()
AGENTS = "/api/rtstats/stats/agents.json"
SCHEDULES = "/api/provisioning/schedules.json"


@pytest.fixture
def sim():
    server = SimulatorServer(port=0, agents=10, queues=3, seed=1, clock=lambda: NOON)
    server.start()
    yield server
    server.stop()


def test_it_accepts_the_default_credentials(sim):
    assert requests.get(sim.base_url + AGENTS, auth=("demo", "demo-token"), timeout=5).status_code == 200
    assert requests.get(sim.base_url + SCHEDULES, auth=("demo", "demo-token"), timeout=5).status_code == 200


def test_it_answers_403_to_bad_statistics_credentials(sim):
    assert requests.get(sim.base_url + AGENTS, auth=("demo", "wrong"), timeout=5).status_code == 403
    assert requests.get(sim.base_url + AGENTS, auth=("other", "demo-token"), timeout=5).status_code == 403


def test_it_answers_401_to_bad_schedule_credentials(sim):
    r = requests.get(sim.base_url + SCHEDULES, auth=("demo", "wrong"), timeout=5)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic")


def test_it_challenges_requests_without_credentials(sim):
    r = requests.get(sim.base_url + AGENTS, timeout=5)
    assert r.status_code == 401
    assert "WWW-Authenticate" in r.headers


def test_it_takes_custom_tenant_and_token():
    server = SimulatorServer(port=0, agents=3, queues=1, tenant="acme", token="s3cret", clock=lambda: NOON)
    server.start()
    try:
        assert requests.get(server.base_url + AGENTS, auth=("acme", "s3cret"), timeout=5).status_code == 200
        assert requests.get(server.base_url + AGENTS, auth=("demo", "demo-token"), timeout=5).status_code == 403
    finally:
        server.stop()


def test_it_answers_503_to_a_second_request_in_flight(sim):
    sim.latency_ms = 400
    results: dict[str, int] = {}

    def first():
        results["first"] = requests.get(sim.base_url + AGENTS, auth=("demo", "demo-token"), timeout=10).status_code

    thread = threading.Thread(target=first)
    thread.start()
    wait_for(lambda: sim.state()["in_flight"]["demo"] == 1)
    second = requests.get(sim.base_url + SCHEDULES, auth=("demo", "demo-token"), timeout=10)
    thread.join()
    assert second.status_code == 503
    assert results["first"] == 200
    state = sim.state()
    assert state["max_in_flight"]["demo"] == 2
    assert state["busy_rejections"] == 1
    assert state["in_flight"]["demo"] == 0


def test_it_keeps_tenants_apart_for_the_in_flight_rule():
    server = SimulatorServer(port=0, agents=3, queues=1, clock=lambda: NOON, latency_ms=300,
                             tenants={"a": "token-a", "b": "token-b"})
    server.start()
    try:
        results = {}

        def fetch(name):
            results[name] = requests.get(server.base_url + AGENTS, auth=(name, f"token-{name}"), timeout=10).status_code

        threads = [threading.Thread(target=fetch, args=(n,)) for n in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == {"a": 200, "b": 200}
    finally:
        server.stop()


def test_it_serves_sequential_requests_without_503(sim):
    session = requests.Session()
    session.auth = ("demo", "demo-token")
    codes = [session.get(sim.base_url + path, timeout=5).status_code for path in (AGENTS, SCHEDULES) * 5]
    assert codes == [200] * 10
    assert sim.state()["max_in_flight"]["demo"] == 1
