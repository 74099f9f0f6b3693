"""Faults switched on and off while the simulator runs, through the control endpoint and in Python."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
import requests

from tests.helpers import wait_for
from wallboard.simulator.server import SimulatorServer

NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC).timestamp()
AUTH = ("demo", "demo-token")
AGENTS = "/api/rtstats/stats/agents"
SCHEDULES = "/api/provisioning/schedules"


@pytest.fixture
def sim():
    server = SimulatorServer(port=0, agents=20, queues=4, seed=1, clock=lambda: NOON)
    server.start()
    yield server
    server.stop()


def get(sim, path: str, **kwargs) -> requests.Response:
    return requests.get(sim.base_url + path, auth=AUTH, timeout=kwargs.pop("timeout", 10), **kwargs)


def control(sim, method: str, path: str, body: dict | None = None) -> requests.Response:
    return requests.request(method, sim.base_url + path, json=body, timeout=10)


def test_it_answers_503_for_the_next_n_requests(sim):
    r = control(sim, "POST", "/_sim/faults", {"kind": "status", "code": 503, "count": 2})
    assert r.status_code == 201 and r.json()["remaining"] == 2
    assert [get(sim, AGENTS).status_code for _ in range(3)] == [503, 503, 200]
    assert sim.state()["faults"] == []


def test_it_answers_500_for_some_seconds(sim):
    sim.faults.add("status", code=500, seconds=60)
    assert get(sim, AGENTS).status_code == 500
    assert get(sim, SCHEDULES).status_code == 500
    assert control(sim, "DELETE", "/_sim/faults").json() == {"removed": 1}
    assert get(sim, AGENTS).status_code == 200


def test_it_lets_a_timed_fault_expire(sim):
    sim.faults.add("status", code=503, seconds=0.2)
    wait_for(lambda: get(sim, AGENTS).status_code == 200)


def test_it_targets_one_api(sim):
    sim.faults.add("status", code=503, target="schedules")
    assert get(sim, AGENTS).status_code == 200
    assert get(sim, SCHEDULES).status_code == 503
    sim.faults.clear()
    sim.faults.add("status", code=500, target="rtstats")
    assert get(sim, AGENTS).status_code == 500
    assert get(sim, SCHEDULES).status_code == 200


def test_it_revokes_and_restores_the_token(sim):
    assert control(sim, "POST", "/_sim/revoke").status_code == 201
    assert get(sim, AGENTS).status_code == 403
    assert get(sim, SCHEDULES).status_code == 401
    assert control(sim, "POST", "/_sim/restore").json() == {"removed": 1}
    assert get(sim, AGENTS).status_code == 200
    assert get(sim, SCHEDULES).status_code == 200


def test_it_revokes_from_python_for_one_api(sim):
    sim.revoke_token(target="rtstats")
    assert get(sim, AGENTS).status_code == 403
    assert get(sim, SCHEDULES).status_code == 200
    sim.restore_token()
    assert get(sim, AGENTS).status_code == 200


def test_it_serves_malformed_xml_and_json(sim):
    sim.faults.add("malformed", count=2)
    xml_body = get(sim, AGENTS + ".xml")
    json_body = get(sim, AGENTS + ".json")
    assert xml_body.status_code == json_body.status_code == 200
    with pytest.raises(ET.ParseError):
        ET.fromstring(xml_body.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(json_body.content)
    ET.fromstring(get(sim, AGENTS + ".xml").content)  # the fault is used up


def test_it_truncates_a_body(sim):
    sim.faults.add("truncated", count=1)
    with pytest.raises(requests.exceptions.RequestException):
        get(sim, AGENTS + ".json")
    assert get(sim, AGENTS + ".json").status_code == 200


def test_it_serves_an_oversized_body(sim):
    sim.faults.add("oversized", bytes=3_000_000, count=1)
    with get(sim, AGENTS + ".json", stream=True) as r:
        assert int(r.headers["Content-Length"]) == 3_000_000
        first = next(r.iter_content(65536))
        assert first.startswith(b'{"agent":[')
    # Closing mid-body leaves the simulator healthy, once its thread has seen the close (on a
    # loaded machine the next request could otherwise come first, and be refused as a second).
    wait_for(lambda: sim.state()["in_flight"]["demo"] == 0)
    assert get(sim, AGENTS + ".json").status_code == 200


def test_it_serves_an_oversized_body_that_is_valid_when_read_whole(sim):
    sim.faults.add("oversized", bytes=200_000, count=1, target="schedules")
    r = get(sim, SCHEDULES + ".json")
    assert len(r.content) == 200_000
    assert r.json() == {"schedule": []}


def test_it_hangs_until_the_client_gives_up(sim):
    sim.faults.add("hang", count=1)
    with pytest.raises(requests.exceptions.Timeout):
        get(sim, AGENTS, timeout=0.5)
    # The dropped request leaves the tenant's in-flight slot.
    wait_for(lambda: sim.state()["in_flight"]["demo"] == 0)
    assert get(sim, AGENTS).status_code == 200


def test_it_adds_latency_and_still_answers(sim):
    fault = sim.faults.add("latency", ms=50, count=1)
    assert fault["ms"] == 50
    assert get(sim, AGENTS).status_code == 200
    assert sim.faults.active() == []


def test_it_stops_even_with_a_hanging_request(sim):
    import threading

    sim.faults.add("hang")
    thread = threading.Thread(target=lambda: pytest.raises(requests.exceptions.RequestException, get, sim, AGENTS))
    thread.start()
    wait_for(lambda: sim.state()["in_flight"]["demo"] == 1)
    sim.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_it_lists_and_deletes_one_fault(sim):
    a = control(sim, "POST", "/_sim/faults", {"kind": "status", "code": 503, "target": "rtstats"}).json()
    b = control(sim, "POST", "/_sim/faults", {"kind": "latency", "ms": 10, "seconds": 30}).json()
    listed = control(sim, "GET", "/_sim/faults").json()
    assert [f["id"] for f in listed] == [a["id"], b["id"]]
    assert control(sim, "DELETE", f"/_sim/faults/{a['id']}").status_code == 200
    assert [f["id"] for f in sim.state()["faults"]] == [b["id"]]
    assert control(sim, "DELETE", "/_sim/faults/9999").status_code == 404


@pytest.mark.parametrize("body", [
    {"kind": "explode"},
    {"kind": "status", "code": 200},
    {"kind": "status", "target": "everything"},
    {"kind": "status", "count": 0},
    {"kind": "latency", "ms": -5},
    {},
])
def test_it_refuses_bad_fault_specs(sim, body):
    r = control(sim, "POST", "/_sim/faults", body)
    assert r.status_code == 400
    assert "error" in r.json()
