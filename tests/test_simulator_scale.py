"""2,000 agents and 300 queues: every answer complete and correct (speed is for bench/, not here)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
import requests

from wallboard.simulator.server import SimulatorServer

AFTERNOON = datetime(2026, 3, 4, 14, 0, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def big():
    server = SimulatorServer(port=0, agents=2000, queues=300, seed=1, clock=lambda: AFTERNOON)
    server.start()
    yield server
    server.stop()


def get(sim, path: str) -> requests.Response:
    r = requests.get(sim.base_url + path, auth=("demo", "demo-token"), timeout=30)
    assert r.status_code == 200
    return r


def test_it_serves_every_agent_and_queue(big):
    agents = get(big, "/api/rtstats/stats/agents.json").json()["agent"]
    queues = get(big, "/api/rtstats/stats/queues.json").json()["queue"]
    assert len(agents) == 2000 and len({a["agent-id"] for a in agents}) == 2000
    assert len(queues) == 300 and len({q["queue-id"] for q in queues}) == 300
    assert len(ET.fromstring(get(big, "/api/rtstats/stats/agents").content)) == 2000
    assert len(ET.fromstring(get(big, "/api/rtstats/stats/queues").content)) == 300


def test_it_gives_every_queue_agents_and_traffic(big):
    queues = get(big, "/api/rtstats/stats/queues.json").json()["queue"]
    assert all(q["enabled-agent-count"] > 0 for q in queues)
    assert sum(q["day-queued"] for q in queues) > 10_000
    assert len({q["queue-name"] for q in queues}) == 300


def test_it_serves_single_items_at_scale(big):
    assert get(big, "/api/rtstats/stats/queue/500.json").json()["queue"]["queue-id"] == "500"
    agent_id = get(big, "/api/rtstats/stats/agents.json").json()["agent"][1999]["agent-id"]
    assert get(big, f"/api/rtstats/stats/agent/{agent_id}").content.count(b"<agent>") == 1
