"""Open/closed on the board: schedules refreshed from 8x8, evaluated locally every cycle,
checked against 8x8's /status, which wins when the two disagree."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.pipeline_helpers import Clock
from wallboard.boards.models import Board, BoardQueue, Tenant, TenantHealth
from wallboard.live import store
from wallboard.polling.clients import client_for
from wallboard.polling.cycle import poll_tenant
from wallboard.polling.schedules import refresh_schedules
from wallboard.schedules.engine import evaluate
from wallboard.simulator.server import SimulatorServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clock():
    # The simulator answers /status at its own clock: start it at the real now so it agrees.
    return Clock(time.time())


@pytest.fixture
def sim(clock, redis_client):
    server = SimulatorServer(port=0, agents=20, queues=3, seed=2, clock=clock)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def board(sim):
    tenant = Tenant.objects.create(name="Sim", base_url=sim.base_url, tenant_name="demo", token="demo-token")
    queue_ids = [q.queue_id for q in client_for(tenant).queues()]
    board = Board.objects.create(slug="hours", title="Hours", tenant=tenant)
    BoardQueue.objects.create(board=board, queue_id=queue_ids[0], schedule_id="101", position=0)
    BoardQueue.objects.create(board=board, queue_id=queue_ids[1], schedule_id="102", position=1)
    BoardQueue.objects.create(board=board, queue_id=queue_ids[2], position=2)
    return board


def schedule_of(board: Board, queue_position: int) -> dict | None:
    queue_id = board.queues.order_by("position")[queue_position].queue_id
    return store.load(board.slug).data["queues"][queue_id]["schedule"]


def test_it_shows_each_mapped_queue_open_or_closed_with_a_countdown(board):
    tenant = board.tenant
    assert refresh_schedules(tenant.pk) == "ok"
    poll_tenant(tenant.pk)
    schedules = {s.id: s for s in client_for(tenant).schedules()}
    for position, schedule_id in ((0, "101"), (1, "102")):
        shown = schedule_of(board, position)
        expected = evaluate(schedules[schedule_id], datetime.now(UTC), tenant.time_zone)
        assert shown["status"] == expected.status
        assert shown["state"] == expected.state
        assert shown["source"] == "local"
        assert shown["name"] == schedules[schedule_id].name
        assert shown["next_change"] is not None and datetime.fromisoformat(shown["next_change"]) > datetime.now(UTC)
    assert schedule_of(board, 2) is None
    assert TenantHealth.objects.get(tenant=tenant).schedule_disagreements == {}


def test_it_offers_the_schedules_as_choices_after_a_refresh(board):
    from wallboard.polling.catalogue import get_catalogue

    refresh_schedules(board.tenant.pk)
    names = {s["id"]: s["name"] for s in get_catalogue(board.tenant.pk)["schedules"]}
    assert names["101"] == "Support Hours"


def test_it_uses_the_status_from_8x8_when_it_disagrees(board, clock, sim, caplog):
    tenant = board.tenant
    schedule = next(s for s in client_for(tenant).schedules() if s.id == "101")
    now = datetime.now(UTC)
    local = evaluate(schedule, now, tenant.time_zone)
    # Move the simulator's clock to a time when 8x8 would say something else than we do now.
    later = next(
        now + timedelta(hours=h) for h in range(1, 72)
        if evaluate(schedule, now + timedelta(hours=h), tenant.time_zone).status != local.status
    )
    clock.t = later.timestamp()
    api_status = evaluate(schedule, later, tenant.time_zone).status
    with caplog.at_level("WARNING"):
        refresh_schedules(tenant.pk)
    poll_tenant(tenant.pk)
    shown = schedule_of(board, 0)
    assert shown["source"] == "api"
    assert shown["status"] == api_status
    disagreement = TenantHealth.objects.get(tenant=tenant).schedule_disagreements["101"]
    assert disagreement["local_status"] == local.status and disagreement["api_status"] == api_status
    assert any("schedule 101" in record.getMessage() for record in caplog.records), "logged once with both answers"
    # The next refresh, with 8x8 agreeing again, goes back to the local answer.
    clock.t = time.time()
    refresh_schedules(tenant.pk)
    poll_tenant(tenant.pk)
    assert schedule_of(board, 0)["source"] == "local"
    assert TenantHealth.objects.get(tenant=tenant).schedule_disagreements == {}


def test_it_mutes_alerts_of_a_closed_queue(board, clock):
    from wallboard.boards.models import Threshold

    tenant = board.tenant
    Threshold.objects.create(board=board, metric="queue_size", warn=-2, alert=-1)  # always alert
    refresh_schedules(tenant.pk)
    poll_tenant(tenant.pk)
    data = store.load(board.slug).data
    for queue in data["queues"].values():
        closed = queue["schedule"] is not None and queue["schedule"]["state"] == "closed"
        assert queue["states"]["queue_size"] == ("ok" if closed else "alert")


def test_it_keeps_showing_schedules_when_a_refresh_fails(board, sim):
    tenant = board.tenant
    refresh_schedules(tenant.pk)
    poll_tenant(tenant.pk)
    before = schedule_of(board, 0)
    sim.faults.add("status", target="schedules", count=1, code=503)
    assert refresh_schedules(tenant.pk) == "busy"
    poll_tenant(tenant.pk)
    assert schedule_of(board, 0)["status"] == before["status"]
