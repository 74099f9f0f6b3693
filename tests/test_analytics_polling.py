"""A tenant on the Analytics API (v5) polled end to end: simulator -> poll -> board state in Redis.

The board, its thresholds and the protocol do not change with the source; the poll locks to
the 5 s refresh as it does to the 10 s one; the token is shared through Redis.
"""

from __future__ import annotations

import math

import pytest
from cryptography.fernet import Fernet

from tests.pipeline_helpers import START, Clock
from wallboard.boards.models import Board, BoardAgentGroup, BoardQueue, Tenant, TenantHealth, Threshold
from wallboard.live import store
from wallboard.polling import clients
from wallboard.polling.catalogue import get_catalogue
from wallboard.polling.cycle import poll_tenant
from wallboard.polling.phase import PHASE_PROBE_EVERY, PHASE_STEP, phase_scale, plan_next_poll
from wallboard.simulator.analytics import agent_id
from wallboard.simulator.server import SimulatorServer
from wallboard.vcc.analytics import AnalyticsSource
from wallboard.vcc.client import VccClient

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "poll-s3cr3t"


@pytest.fixture
def clock():
    return Clock(START)


@pytest.fixture
def sim(clock, redis_client):
    server = SimulatorServer(port=0, agents=30, queues=5, seed=4, clock=clock)
    server.analytics.client_secret = SECRET
    server.start()
    yield server
    server.stop()


def analytics_tenant(sim, **changes) -> Tenant:
    fields = dict(
        name="Analytics Co", base_url=sim.base_url, tenant_name="demo", token="demo-token", source="analytics",
        analytics_client_id="demo-client", analytics_client_secret=SECRET, analytics_base_url=sim.base_url,
    )
    tenant = Tenant(**{**fields, **changes})
    tenant.full_clean()
    tenant.save()
    return tenant


@pytest.fixture
def board(sim):
    tenant = analytics_tenant(sim)
    board = Board.objects.create(slug="v5", title="V5", tenant=tenant, queue_metrics=["queue_size", "longest_wait_time",
                                                                                      "day_sla_activity", "agent_count_busy"])
    for position, queue_id in enumerate(("201", "202", "203")):
        BoardQueue.objects.create(board=board, queue_id=queue_id, position=position)
    Threshold.objects.create(board=board, metric="queue_size", warn=1, alert=3)
    BoardAgentGroup.objects.create(board=board, group_id="101", name="First")
    return board


def test_it_polls_an_analytics_tenant_into_the_same_board_state(sim, board):
    assert board.tenant.poll_interval == 5, "left at the statistics API's 10 s, an Analytics tenant polls every 5 s"
    assert isinstance(clients.client_for(board.tenant), AnalyticsSource)
    result = poll_tenant(board.tenant.pk)
    assert result.outcome == "ok"
    state = store.load("v5").data
    assert set(state["queues"]) == {"201", "202", "203"}
    assert set(state["queues"]["201"]["metrics"]) == {"queue_size", "longest_wait_time", "day_sla_activity", "agent_count_busy"}
    assert state["queues"]["201"]["states"]["queue_size"] in ("ok", "warn", "alert")
    assert state["board"]["cycle_seconds"] == 5
    # Agents of group 101, under v5's ids, with the same states the statistics API shows.
    classic = {a.agent_id: a for a in VccClient(sim.base_url, "demo", "demo-token").agents()}
    expected = {agent_id(a.agent_id) for a in classic.values() if a.group_id == "101"}
    assert set(state["agents"]) == expected
    states = {agent_id(i): a.agent_status for i, a in classic.items()}
    names = {0: "available", 1: "offered", 2: "busy", 3: "post_processing", 4: "on_break", 5: "offline", 9: "logged_out"}
    assert all(entry["state"] == names[states[ident]] for ident, entry in state["agents"].items())
    assert TenantHealth.objects.get(tenant=board.tenant).state == "ok"


def test_it_polls_every_five_seconds_with_one_shared_token(sim, board, clock, redis_client):
    for _ in range(4):
        assert poll_tenant(board.tenant.pk).outcome == "ok"
        clock.advance(5)
    analytics = sim.analytics.state()
    assert analytics["tokens_issued"] == 1
    assert analytics["requests"]["metrics"] == 8, "one agents page and one queues page per poll"
    assert redis_client.keys("wb:analytics:token:*")
    clients.forget_clients()  # another worker process: a client of its own, the token from Redis
    assert poll_tenant(board.tenant.pk).outcome == "ok"
    assert sim.analytics.state()["tokens_issued"] == 1


def test_it_records_refused_credentials_without_showing_the_secret(sim, board):
    sim.analytics.client_secret = "rotated-in-admin-console"
    result = poll_tenant(board.tenant.pk)
    assert result.outcome == "unauthorised"
    health = TenantHealth.objects.get(tenant=board.tenant)
    assert health.state == "unauthorised"
    assert "client id and secret" in health.last_error_message
    assert SECRET not in health.message + health.last_error_message


def test_it_keeps_the_last_good_board_when_an_answer_is_malformed(sim, board, clock):
    assert poll_tenant(board.tenant.pk).outcome == "ok"
    good = store.load("v5").data
    clock.advance(5)
    sim.faults.add("malformed", target="rtstats", count=1)
    assert poll_tenant(board.tenant.pk).outcome == "malformed"
    assert store.load("v5").data["queues"] == good["queues"]


def test_it_reads_schedules_through_the_statistics_platform(sim, board):
    client = clients.client_for(board.tenant)
    assert client.schedules(), "v5 has no schedules: the Tenant Schedule API still answers them"


# --- the phase lock at a 5 s refresh ---------------------------------------------------------------

INTERVAL = 5.0


def run_phase_lock(refresh_phase: float, start: float, cycles: int) -> list[tuple[float, int]]:
    t, polls = start, []
    for _ in range(cycles):
        window = math.floor((t - refresh_phase) / INTERVAL)
        polls.append((t, window))
        t = plan_next_poll(1, INTERVAL, t, f"data {window}")
    return polls


@pytest.mark.parametrize("offset", [0.2, 1.5, 2.5, 3.7, 4.9])
def test_it_locks_on_just_after_a_five_second_refresh(redis_client, offset):
    polls = run_phase_lock(refresh_phase=1000.0, start=1000.0 + offset, cycles=80)
    steady = polls[15:]
    ages = [t - (1000.0 + w * INTERVAL) for (t, w), (_, before) in zip(steady[1:], steady, strict=False) if w != before]
    assert max(ages) <= PHASE_STEP * phase_scale(INTERVAL) + 1e-6  # half a second at a 5 s refresh
    windows = [w for _, w in steady]
    assert len(windows) - len(set(windows)) <= len(steady) // PHASE_PROBE_EVERY + 1


def test_it_stops_polling_when_the_stored_secret_cannot_be_read(sim, board, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the key that wrote it is gone
    assert poll_tenant(board.tenant.pk).outcome == "unreadable_secret"
    assert "analytics client secret" in TenantHealth.objects.get(tenant=board.tenant).message
    assert sim.analytics.state()["requests"] == {}, "nothing was sent"


def test_it_fills_the_catalogue_with_the_group_names_analytics_gives(sim, board):
    assert poll_tenant(board.tenant.pk).outcome == "ok"
    groups = get_catalogue(board.tenant.pk)["agent_groups"]
    assert {"id": "101", "name": "Sales team"} in groups
