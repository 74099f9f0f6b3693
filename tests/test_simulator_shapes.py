"""The simulator serves the documented shapes: well-formed XML, the agreed JSON, every field."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
import requests

from wallboard.simulator.server import SimulatorServer

WEDNESDAY_10AM = datetime(2026, 3, 4, 10, 0, tzinfo=UTC).timestamp()
AGENT_FIELDS = {
    "agent-id", "agent-media-id", "agent-name", "agent-status", "assigned-skill-count", "day-accepted-count",
    "day-available-time", "day-avg-processing-time", "day-break-time", "day-login-time", "day-offline-time",
    "day-processing-time", "day-rejected-count", "day-wrap-up-time", "enabled-skill-count", "group-id",
    "last-login-time", "phone-line1-status", "phone-line1-status-time", "phone-line2-status",
    "phone-line2-status-time", "status-code-item-id", "status-code-item-short-code", "status-code-list-id",
    "thirty-min-accepted-count", "thirty-min-available-time", "thirty-min-avg-handling-time",
    "thirty-min-break-time", "thirty-min-offline-time", "thirty-min-processing-time",
    "thirty-min-rejected-count", "thirty-min-wrap-up-time", "time-in-status",
}
QUEUE_FIELDS = {
    "agent-count-busy", "agent-count-loggedOut", "agent-count-onBreak", "agent-count-postProcess",
    "agent-count-waitTransact", "agent-count-workOffline", "day-abandoned", "day-accepted", "day-avg-duration",
    "day-avg-wait-time", "day-queued", "day-sla-activity", "assigned-agent-count", "enabled-agent-count",
    "longest-wait-time", "media-type", "number-in-offered", "number-in-progress", "queue-id", "queue-name",
    "queue-size", "sla-activity", "sla-target", "thirty-min-abandoned", "thirty-min-accepted",
    "thirty-min-avg-duration", "thirty-min-avg-wait-time", "thirty-min-longest-wait-time", "thirty-min-queued",
    "thirty-min-sla-activity",
}


@pytest.fixture(scope="module")
def sim():
    server = SimulatorServer(port=0, agents=40, queues=8, seed=3, clock=lambda: WEDNESDAY_10AM)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def get(sim):
    session = requests.Session()
    session.auth = ("demo", "demo-token")

    def fetch(path: str) -> requests.Response:
        return session.get(sim.base_url + path, timeout=10)

    yield fetch
    session.close()


def test_it_serves_xml_by_default_with_a_declaration(get):
    r = get("/api/rtstats/stats/agents")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/xml")
    assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(r.content)
    assert root.tag == "agents"
    assert len(root.findall("agent")) == 40


def test_it_serves_every_documented_agent_field_in_xml(get):
    root = ET.fromstring(get("/api/rtstats/stats/agents.xml").content)
    for agent in root.findall("agent"):
        assert {child.tag for child in agent} == AGENT_FIELDS


def test_it_writes_empty_status_codes_as_empty_elements(get):
    body = get("/api/rtstats/stats/agents.xml").content
    root = ET.fromstring(body)
    idle = [a for a in root.findall("agent") if a.findtext("agent-status") not in ("4", "5")]
    assert idle and all(a.find("status-code-item-id").text is None for a in idle)
    assert b"<status-code-item-id/>" in body


def test_it_serves_agents_json_as_a_list_under_agent(get):
    data = get("/api/rtstats/stats/agents.json").json()
    assert list(data) == ["agent"]
    assert isinstance(data["agent"], list) and len(data["agent"]) == 40
    for agent in data["agent"]:
        assert set(agent) == AGENT_FIELDS
        assert isinstance(agent["agent-status"], int)
        assert agent["agent-status"] in (0, 1, 2, 3, 4, 5, 9)
        assert isinstance(agent["group-id"], str)


def test_it_serves_queues_in_both_formats_with_every_field(get):
    data = get("/api/rtstats/stats/queues.json").json()
    assert isinstance(data["queue"], list) and len(data["queue"]) == 8
    for queue in data["queue"]:
        assert QUEUE_FIELDS <= set(queue)
        assert queue["media-type"] in ("phone", "chat", "email", "vmail")
    root = ET.fromstring(get("/api/rtstats/stats/queues").content)
    assert root.tag == "queues"
    assert {child.tag for child in root.find("queue")} >= QUEUE_FIELDS


def test_it_serves_every_media_type(get):
    media = {q["media-type"] for q in get("/api/rtstats/stats/queues.json").json()["queue"]}
    assert media == {"phone", "chat", "email", "vmail"}


def test_it_serves_one_queue_as_an_object(get):
    queue_id = get("/api/rtstats/stats/queues.json").json()["queue"][2]["queue-id"]
    data = get(f"/api/rtstats/stats/queue/{queue_id}.json").json()
    assert isinstance(data["queue"], dict)
    assert data["queue"]["queue-id"] == queue_id
    root = ET.fromstring(get(f"/api/rtstats/stats/queue/{queue_id}").content)
    assert root.tag == "queues" and root.find("queue/queue-id").text == queue_id


def test_it_serves_one_agent(get):
    agent_id = get("/api/rtstats/stats/agents.json").json()["agent"][5]["agent-id"]
    data = get(f"/api/rtstats/stats/agent/{agent_id}.json").json()
    assert data["agent"]["agent-id"] == agent_id
    root = ET.fromstring(get(f"/api/rtstats/stats/agent/{agent_id}.xml").content)
    assert root.find("agent/agent-id").text == agent_id


def test_it_answers_404_for_unknown_ids_and_paths(get):
    assert get("/api/rtstats/stats/agent/nobody.json").status_code == 404
    assert get("/api/rtstats/stats/queue/999999").status_code == 404
    assert get("/api/rtstats/stats/elephants").status_code == 404
    assert get("/api/provisioning/schedules/999").status_code == 404
    assert get("/api/provisioning/schedulesbyname/No%20Such%20Schedule").status_code == 404


def test_it_keeps_single_bodies_consistent_with_the_list(get):
    listing = get("/api/rtstats/stats/queues.json").json()["queue"]
    for queue in listing:
        assert get(f"/api/rtstats/stats/queue/{queue['queue-id']}.json").json()["queue"] == queue


def test_it_serves_schedules_in_the_agreed_shapes(get):
    data = get("/api/provisioning/schedules.json").json()
    items = data["schedules"]["schedule"]
    assert isinstance(items, list) and len(items) >= 6
    for item in items:
        assert {"id", "name", "time-zone", "week-days", "exceptions"} <= set(item)
        assert isinstance(item["week-days"]["week-day"], list)
    root = ET.fromstring(get("/api/provisioning/schedules").content)
    assert root.tag == "schedules" and len(root.findall("schedule")) == len(items)
    assert root.find("schedule/week-days/week-day/properties/start-time") is not None


def test_it_serves_the_sample_features(get):
    items = get("/api/provisioning/schedules.json").json()["schedules"]["schedule"]
    raw = json.dumps(items)
    names = {item["name"] for item in items}
    zones = {item["time-zone"] for item in items}
    assert any(" " in name for name in names)
    assert "PST8PDT" in zones
    assert "CHOICE #1" in raw
    assert '"end-time": "24:00"' in raw or '"end-time":"24:00"' in raw
    assert any(item["exceptions"] for item in items)


def test_it_finds_a_schedule_by_a_name_with_a_space(get):
    data = get("/api/provisioning/schedulesbyname/Support%20Hours.json").json()
    assert data["schedules"]["schedule"][0]["name"] == "Support Hours"
    root = ET.fromstring(get("/api/provisioning/schedulesbyname/Support%20Hours").content)
    assert root.find("schedule/name").text == "Support Hours"


def test_it_serves_one_schedule(get):
    data = get("/api/provisioning/schedules/102.json").json()
    assert data["schedule"]["name"] == "Sales"
    root = ET.fromstring(get("/api/provisioning/schedules/102.xml").content)
    assert root.tag == "schedule" and root.findtext("time-zone") == "Europe/London"


def test_it_serves_status_shapes(get):
    data = get("/api/provisioning/schedules/101/status.json").json()
    assert set(data) == {"schedule-status"} and "status" in data["schedule-status"]
    root = ET.fromstring(get("/api/provisioning/schedules/101/status").content)
    assert root.tag == "schedule-status" and root.findtext("status") is not None
    data = get("/api/provisioning/schedules/101/nextstatus.json").json()["schedule-next-status"]
    assert set(data) == {"status", "next-status", "next-change-utctime"}
    root = ET.fromstring(get("/api/provisioning/schedules/101/nextstatus.xml").content)
    assert root.tag == "schedule-next-status" and int(root.findtext("next-change-utctime")) > 0
