"""The statistics gateway's one known form: /cc/v1/stats/rt/queue/{id}, header credentials, JSON.

NOTES.md knows the queue-by-id form only, so the simulator serves nothing else on the gateway.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import requests

from tests.helpers import wait_for
from wallboard.simulator.server import SimulatorServer

NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC).timestamp()
GATEWAY = "/cc/v1/stats/rt"
KEY = {"X-8x8-Tenant": "demo", "x-api-key": "demo-api-key"}


@pytest.fixture
def sim():
    server = SimulatorServer(port=0, agents=10, queues=3, seed=1, clock=lambda: NOON)
    server.start()
    yield server
    server.stop()


def get(sim: SimulatorServer, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
    return requests.get(sim.base_url + path, headers=headers, timeout=10, **kwargs)


def test_it_serves_a_queue_through_the_gateway_as_the_classic_api_does(sim):
    classic = get(sim, "/api/rtstats/stats/queue/201.json", auth=("demo", "demo-token"))
    gateway = get(sim, f"{GATEWAY}/queue/201", KEY)

    assert gateway.status_code == 200
    assert gateway.headers["Content-Type"].startswith("application/json")
    assert gateway.content == classic.content
    assert str(gateway.json()["queue"]["queue-id"]) == "201"


def test_it_answers_json_whatever_is_asked(sim):
    answer = get(sim, f"{GATEWAY}/queue/202", {**KEY, "Accept": "application/xml"})
    assert str(answer.json()["queue"]["queue-id"]) == "202"


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-8x8-Tenant": "demo"}, {"x-api-key": "demo-api-key"}, {"X-8x8-Tenant": "", "x-api-key": "demo-api-key"}],
)
def test_it_answers_401_without_both_gateway_headers(sim, headers):
    answer = get(sim, f"{GATEWAY}/queue/201", headers)
    assert answer.status_code == 401
    assert "WWW-Authenticate" not in answer.headers  # a browser prompt could not send these headers


def test_it_takes_no_basic_auth_on_the_gateway(sim):
    assert get(sim, f"{GATEWAY}/queue/201", auth=("demo", "demo-token")).status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {"X-8x8-Tenant": "demo", "x-api-key": "wrong"},
        {"X-8x8-Tenant": "demo", "x-api-key": "demo-token"},  # the token is not the key
        {"X-8x8-Tenant": "other", "x-api-key": "demo-api-key"},
    ],
)
def test_it_answers_403_to_a_wrong_tenant_or_api_key(sim, headers):
    assert get(sim, f"{GATEWAY}/queue/201", headers).status_code == 403


def test_it_does_not_take_the_api_key_as_a_token(sim):
    assert get(sim, "/api/rtstats/stats/queues.json", auth=("demo", "demo-api-key")).status_code == 403


def test_it_answers_404_for_an_unknown_queue(sim):
    assert get(sim, f"{GATEWAY}/queue/999", KEY).status_code == 404


@pytest.mark.parametrize("path", ["/queues", "/agents", "/agent/agent-1", "/queue/201.xml"])
def test_it_serves_no_gateway_form_the_documents_do_not_know(sim, path):
    assert get(sim, GATEWAY + path, KEY).status_code == 404


def test_it_takes_custom_api_keys_per_tenant():
    server = SimulatorServer(
        port=0, agents=3, queues=1, clock=lambda: NOON,
        tenants={"a": "token-a", "b": "token-b"}, api_key="shared-key", api_keys={"b": "key-b"},
    )
    server.start()
    try:
        assert get(server, f"{GATEWAY}/queue/201", {"X-8x8-Tenant": "a", "x-api-key": "shared-key"}).status_code == 200
        assert get(server, f"{GATEWAY}/queue/201", {"X-8x8-Tenant": "b", "x-api-key": "key-b"}).status_code == 200
        assert get(server, f"{GATEWAY}/queue/201", {"X-8x8-Tenant": "b", "x-api-key": "shared-key"}).status_code == 403
    finally:
        server.stop()


def test_it_counts_gateway_requests_as_statistics_requests(sim):
    sim.reset_counters()
    get(sim, f"{GATEWAY}/queue/201", KEY)
    get(sim, "/api/rtstats/stats/queue/201.json", auth=("demo", "demo-token"))

    state = sim.state()
    assert state["gateway_requests"] == 1
    assert state["requests"]["queue"] == 2
    assert state["requests_by_api"] == {"rtstats": 2, "schedules": 0}
    assert "demo-api-key" not in str(state)


def test_it_counts_the_gateway_and_the_classic_api_as_one_customer(sim):
    sim.latency_ms = 400
    results: dict[str, int] = {}

    def first():
        results["first"] = get(sim, "/api/rtstats/stats/agents.json", auth=("demo", "demo-token")).status_code

    thread = threading.Thread(target=first)
    thread.start()
    wait_for(lambda: sim.state()["in_flight"]["demo"] == 1)
    second = get(sim, f"{GATEWAY}/queue/201", KEY)
    thread.join()

    assert (results["first"], second.status_code) == (200, 503)
    assert sim.state()["busy_by_rule"]["one_per_customer"] == 1


def test_it_applies_statistics_faults_to_the_gateway(sim):
    sim.revoke_token(target="rtstats")
    assert get(sim, f"{GATEWAY}/queue/201", KEY).status_code == 403
    sim.restore_token()
    sim.faults.add("status", code=503, count=1, target="rtstats")
    assert get(sim, f"{GATEWAY}/queue/201", KEY).status_code == 503
    sim.faults.add("malformed", count=1, target="rtstats")
    mangled = get(sim, f"{GATEWAY}/queue/201", KEY)
    assert mangled.status_code == 200
    with pytest.raises(ValueError):
        mangled.json()
    assert get(sim, f"{GATEWAY}/queue/201", KEY).status_code == 200
