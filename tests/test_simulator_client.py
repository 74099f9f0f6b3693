"""The vcc client reads everything the simulator serves, in both formats, and names its faults."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.helpers import wait_for
from wallboard.simulator.server import SimulatorServer

vcc_client = pytest.importorskip("wallboard.vcc.client")
errors = pytest.importorskip("wallboard.vcc.errors")

NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def sim():
    server = SimulatorServer(port=0, agents=30, queues=8, seed=2, clock=lambda: NOON)
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["json", "xml"])
def client(sim, request):
    c = vcc_client.VccClient(sim.base_url, "demo", "demo-token", fmt=request.param, read_timeout=2, max_bytes=1_000_000)
    yield c
    c.close()
    sim.faults.clear()
    # The simulator is shared by the module: a body the test stopped reading is still being sent
    # until its thread sees the close, and the next test's request would be refused as a second.
    wait_for(lambda: sim.state()["in_flight"].get("demo", 0) == 0)


def raw(sim, path: str):
    import requests

    return requests.get(sim.base_url + path, auth=("demo", "demo-token"), timeout=10).json()


def test_it_reads_every_agent_field(sim, client):
    wire = {a["agent-id"]: a for a in raw(sim, "/api/rtstats/stats/agents.json")["agent"]}
    agents = client.agents()
    assert {a.agent_id for a in agents} == set(wire)
    for agent in agents:
        source = wire[agent.agent_id]
        assert agent.agent_status == source["agent-status"]
        assert agent.day_login_time == source["day-login-time"]
        assert agent.day_avg_processing_time == source["day-avg-processing-time"]
        assert agent.group_id == source["group-id"]
        assert agent.last_login_time == (None if source["last-login-time"] == -1 else source["last-login-time"])
        assert agent.status_code_item_short_code == (source["status-code-item-short-code"] or None)
        assert agent.extra == {}


def test_it_reads_every_queue_field(sim, client):
    wire = {q["queue-id"]: q for q in raw(sim, "/api/rtstats/stats/queues.json")["queue"]}
    queues = client.queues()
    assert {q.queue_id for q in queues} == set(wire)
    for queue in queues:
        source = wire[queue.queue_id]
        assert queue.queue_type == "inbound"
        assert queue.agent_count_on_break == source["agent-count-onBreak"]
        assert queue.agent_count_logged_out == source["agent-count-loggedOut"]
        assert queue.day_queued == source["day-queued"]
        assert queue.sla_target == source["sla-target"]
        assert queue.thirty_min_sla_activity == (None if source["thirty-min-sla-activity"] == -1
                                                 else source["thirty-min-sla-activity"])


def test_it_reads_single_items(client):
    queue = client.queues()[3]
    assert client.queue(queue.queue_id).queue_id == queue.queue_id
    agent = client.agents()[7]
    assert client.agent(agent.agent_id).agent_name == agent.agent_name


def test_it_reads_the_schedules(sim, client):
    schedules = client.schedules()
    assert [s.id for s in schedules] == [s.id for s in sim.schedules]
    support = client.schedule_by_name("Support Hours")
    assert support.id == "101"
    assert client.schedule("103").name == "Night Desk"
    sales = client.schedule("102")
    statuses = {p.status for wd in sales.week_days for p in wd.properties}
    assert statuses == {0, 1, 2}  # OPEN, CHOICE #1, CHOICE #2
    assert any(not e.properties for e in support.exceptions)  # closed all day


def test_it_reads_status_and_next_status(client):
    assert client.schedule_status("101", utctime_ms=1772643600000).status == 0  # Wed 12:00 New York
    choice = client.schedule_status("102", utctime_ms=1772645400000)  # Wed 17:30 London
    assert choice.status == 1 and choice.label == "CHOICE #1"
    assert client.schedule_status("101", utctime_ms=1772641800000, offset_s=1800).status == 0
    nxt = client.schedule_next("101", utctime_ms=1772643600000)
    assert (nxt.status, nxt.next_status) == (0, -1)
    assert nxt.next_change == datetime(2026, 3, 5, 1, 0, tzinfo=UTC)


def test_it_reports_bad_credentials(sim):
    with vcc_client.VccClient(sim.base_url, "demo", "wrong") as c:
        with pytest.raises(errors.UnauthorisedError):
            c.queues()
        with pytest.raises(errors.UnauthorisedError):
            c.schedules()


def test_it_reports_not_found(client):
    with pytest.raises(errors.NotFoundError):
        client.queue("424242")


@pytest.mark.parametrize("kind, params, error", [
    ("status", {"code": 503}, "BusyError"),
    ("status", {"code": 500}, "ServerError"),
    ("malformed", {}, "MalformedError"),
    ("oversized", {"bytes": 5_000_000}, "TooLargeError"),
    ("hang", {}, "TimedOutError"),
    ("revoke", {}, "UnauthorisedError"),
])
def test_it_names_each_fault(sim, client, kind, params, error):
    sim.faults.add(kind, count=1, **params)
    with pytest.raises(getattr(errors, error)):
        client.queues()


def test_it_reports_a_truncated_body(sim, client):
    sim.faults.add("truncated", count=1)
    with pytest.raises(errors.VccError):
        client.agents()
