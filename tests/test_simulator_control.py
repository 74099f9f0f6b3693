"""The control endpoint: state, counter reset, configuration, loopback only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from wallboard.simulator.loopback import is_loopback
from wallboard.simulator.server import SimulatorServer, route_of

NOON = datetime(2026, 3, 4, 12, 0, 3, tzinfo=UTC).timestamp()
AUTH = ("demo", "demo-token")


@pytest.fixture
def sim():
    server = SimulatorServer(port=0, agents=10, queues=3, seed=1, clock=lambda: NOON)
    server.start()
    yield server
    server.stop()


def test_it_reports_state_as_json(sim):
    state = requests.get(sim.base_url + "/_sim/state", timeout=5).json()
    assert state["now_ms"] == int(NOON * 1000)
    assert state["last_refresh_ms"] == int((NOON - 3) * 1000)
    assert state["refresh_count"] >= 1
    assert state["in_flight"] == {"demo": 0}
    assert state["faults"] == []
    assert state["config"]["agents"] == 10
    assert set(state["requests"]) >= {"agents", "agent", "queues", "queue", "schedules", "schedule",
                                       "schedule_by_name", "schedule_status", "schedule_next"}


def test_it_counts_requests_per_endpoint_kind(sim):
    session = requests.Session()
    session.auth = AUTH
    for path in ["/api/rtstats/stats/agents", "/api/rtstats/stats/queues.json", "/api/rtstats/stats/queues.json",
                 "/api/rtstats/stats/queue/201.json", "/api/provisioning/schedules/101/status.json",
                 "/api/provisioning/schedulesbyname/Sales"]:
        session.get(sim.base_url + path, timeout=5)
    state = sim.state()
    assert state["requests"]["queues"] == 2
    assert state["requests"]["agents"] == 1
    assert state["requests"]["queue"] == 1
    assert state["requests"]["schedule_status"] == 1
    assert state["requests"]["schedule_by_name"] == 1
    assert state["requests_by_api"] == {"rtstats": 4, "schedules": 2}
    assert state["responses"] == {"200": 6}


def test_it_resets_counters(sim):
    requests.get(sim.base_url + "/api/rtstats/stats/agents", auth=AUTH, timeout=5)
    assert requests.post(sim.base_url + "/_sim/reset-counters", timeout=5).json() == {"ok": True}
    state = sim.state()
    assert sum(state["requests"].values()) == 0
    assert state["responses"] == {}
    assert state["max_in_flight"] == {"demo": 0}


def test_it_sets_latency_at_run_time(sim):
    r = requests.post(sim.base_url + "/_sim/config", json={"latency_ms": 25}, timeout=5)
    assert r.json()["latency_ms"] == 25
    assert sim.latency_ms == 25
    assert requests.post(sim.base_url + "/_sim/config", json={"latency_ms": "x"}, timeout=5).status_code == 400


def test_it_answers_404_to_unknown_control_paths(sim):
    assert requests.get(sim.base_url + "/_sim/nothing", timeout=5).status_code == 404


def test_it_refuses_a_non_json_body(sim):
    r = requests.post(sim.base_url + "/_sim/faults", data=b"not json", timeout=5)
    assert r.status_code == 400


def test_it_knows_loopback_addresses():
    assert is_loopback("127.0.0.1") and is_loopback("127.8.9.1") and is_loopback("::1")
    assert is_loopback("::ffff:127.0.0.1")
    assert not is_loopback("10.0.0.5") and not is_loopback("192.168.1.2") and not is_loopback("junk")


def test_it_routes_paths_and_suffixes():
    assert route_of("/api/rtstats/stats/agents").fmt == "xml"
    assert route_of("/api/rtstats/stats/agent/jdoe.json").item == "jdoe"
    assert route_of("/api/provisioning/schedulesbyname/Support%20Hours.json").item == "Support Hours"
    assert route_of("/api/provisioning/schedules/7/nextstatus.xml").kind == "schedule_next"
    assert route_of("/api/provisioning/schedules/7/").kind == "schedule"
    assert route_of("/api/elsewhere") is None


def test_it_answers_405_to_other_methods_on_the_apis(sim):
    assert requests.post(sim.base_url + "/api/rtstats/stats/agents", auth=AUTH, timeout=5).status_code == 405
