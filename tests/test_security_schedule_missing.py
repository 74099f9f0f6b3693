"""A queue mapped to a schedule 8x8 no longer has says "schedule missing", not "no schedule".

Before, both showed `schedule: null`: a deleted schedule silently turned a queue's open/closed
badge off. Unknown (schedules never fetched yet) must still show nothing.
"""

from __future__ import annotations

import time

import pytest

from wallboard.boards.state import (
    BoardConfig,
    GroupConf,
    QueueConf,
    TenantSnapshot,
    ThresholdConf,
    compute_board_state,
    compute_boards,
)
from wallboard.polling.clients import client_for
from wallboard.vcc.records import Queue

NOW = 1_763_800_000
OPEN = {"status": 0, "label": "OPEN", "state": "open", "name": "Support hours", "next_change": None,
        "next_state": None, "exception": None, "source": "local"}
CLOSED = {**OPEN, "status": -1, "label": "CLOSED", "state": "closed", "name": "Sales hours"}


def config(**kwargs) -> BoardConfig:
    defaults = dict(
        slug="b", title="Board", queue_metrics=("queue_size",),
        queues=(QueueConf("1"), QueueConf("2", schedule_id="s1"), QueueConf("3", schedule_id="gone")),
    )
    return BoardConfig(**{**defaults, **kwargs})


def snapshot() -> TenantSnapshot:
    queues = [Queue(queue_id=q, queue_name=f"Queue {q}", queue_size=4) for q in ("1", "2", "3")]
    return TenantSnapshot.from_records([], queues)


def schedule_of(state: dict, queue_id: str) -> dict | None:
    return state["queues"][queue_id]["schedule"]


def test_it_says_missing_when_8x8_no_longer_lists_the_mapped_schedule():
    state = compute_board_state(config(), snapshot(), {"s1": OPEN}, None, NOW, known_schedules={"s1", "s7"})
    missing = schedule_of(state, "3")
    assert missing["state"] == "missing"
    assert missing["label"] == "Schedule missing"
    # The same keys as an evaluated schedule: the page reads both the same way.
    assert set(missing) == set(OPEN)
    assert missing["next_change"] is None and missing["status"] is None


def test_it_keeps_null_for_a_queue_without_a_schedule():
    state = compute_board_state(config(), snapshot(), {"s1": OPEN}, None, NOW, known_schedules={"s1"})
    assert schedule_of(state, "1") is None
    assert schedule_of(state, "2") == OPEN


def test_it_does_not_call_a_schedule_missing_before_the_list_was_ever_fetched():
    state = compute_board_state(config(), snapshot(), {}, None, NOW, known_schedules=None)
    assert schedule_of(state, "2") is None
    assert schedule_of(state, "3") is None


def test_it_does_not_call_a_listed_but_unevaluated_schedule_missing():
    state = compute_board_state(config(), snapshot(), {"s1": OPEN}, None, NOW, known_schedules={"s1", "gone"})
    assert schedule_of(state, "3") is None


def test_it_infers_the_list_from_the_evaluated_schedules_when_not_told():
    # The poller evaluates every mapped id 8x8 has: one evaluated means the list was fetched.
    states = compute_boards([config()], snapshot(), {"s1": OPEN}, {"b": None}, NOW)
    assert schedule_of(states["b"], "3")["state"] == "missing"
    assert schedule_of(states["b"], "2") == OPEN


def test_it_does_not_mute_alerts_of_a_queue_whose_schedule_is_missing():
    cfg = config(thresholds=(ThresholdConf("queue_size", "", "above", 1, 2),))
    state = compute_board_state(cfg, snapshot(), {"s1": CLOSED}, None, NOW, known_schedules={"s1"})
    assert state["queues"]["3"]["states"] == {"queue_size": "alert"}
    assert state["queues"]["2"]["states"] == {"queue_size": "ok"}  # closed: muted as before


def test_it_says_missing_on_a_group_unless_a_member_is_open():
    groups = (GroupConf("g1", "Closed and gone", ("2", "3")), GroupConf("g2", "Open and gone", ("1", "2", "3")))
    cfg = config(groups=groups, queues=(QueueConf("1", schedule_id="s2"), *config().queues[1:]))
    schedules = {"s1": CLOSED, "s2": OPEN}
    state = compute_board_state(cfg, snapshot(), schedules, None, NOW, known_schedules={"s1", "s2"})
    # A closed group would mute alerts that the queue without a known schedule may well have.
    assert state["groups"]["g1"]["schedule"]["state"] == "missing"
    assert state["groups"]["g2"]["schedule"]["state"] == "open"


# --- Through the poller, against the simulator ----------------------------------------------


@pytest.fixture
def sim_board(redis_client):
    from tests.pipeline_helpers import Clock
    from wallboard.boards.models import Board, BoardQueue, Tenant
    from wallboard.simulator.server import SimulatorServer

    server = SimulatorServer(port=0, agents=5, queues=3, seed=2, clock=Clock(time.time()))
    server.start()
    try:
        tenant = Tenant.objects.create(name="Sim", base_url=server.base_url, tenant_name="demo", token="demo-token")
        queue_ids = [q.queue_id for q in client_for(tenant).queues()]
        board = Board.objects.create(slug="hours", title="Hours", tenant=tenant)
        BoardQueue.objects.create(board=board, queue_id=queue_ids[0], schedule_id="101", position=0)
        BoardQueue.objects.create(board=board, queue_id=queue_ids[1], schedule_id="999999", position=1)
        BoardQueue.objects.create(board=board, queue_id=queue_ids[2], position=2)
        yield board, queue_ids
    finally:
        server.stop()


@pytest.mark.django_db(transaction=True)
def test_it_shows_missing_on_the_published_board_once_schedules_were_fetched(sim_board):
    from wallboard.live import store
    from wallboard.polling.cycle import poll_tenant
    from wallboard.polling.schedules import refresh_schedules

    board, queue_ids = sim_board
    poll_tenant(board.tenant.pk)
    before = store.load(board.slug).data["queues"]
    assert before[queue_ids[1]]["schedule"] is None  # not fetched yet: unknown, not missing

    assert refresh_schedules(board.tenant.pk) == "ok"
    poll_tenant(board.tenant.pk)
    after = store.load(board.slug).data["queues"]
    assert after[queue_ids[0]]["schedule"]["state"] in {"open", "closed", "choice"}
    assert after[queue_ids[1]]["schedule"]["state"] == "missing"
    assert after[queue_ids[2]]["schedule"] is None


@pytest.mark.django_db(transaction=True)
def test_it_shows_missing_when_every_mapped_schedule_is_gone(sim_board):
    from wallboard.boards.models import BoardQueue
    from wallboard.live import store
    from wallboard.polling.cycle import poll_tenant
    from wallboard.polling.schedules import refresh_schedules

    board, queue_ids = sim_board
    # The one real schedule is remapped to an id 8x8 does not have: nothing is evaluated, so
    # the page cannot infer the list; the poller must say whether it was ever fetched.
    BoardQueue.objects.filter(board=board, queue_id=queue_ids[0]).update(schedule_id="888888")
    poll_tenant(board.tenant.pk)
    assert store.load(board.slug).data["queues"][queue_ids[0]]["schedule"] is None  # never fetched

    assert refresh_schedules(board.tenant.pk) == "ok"
    poll_tenant(board.tenant.pk)
    after = store.load(board.slug).data["queues"]
    assert after[queue_ids[0]]["schedule"]["state"] == "missing"
    assert after[queue_ids[1]]["schedule"]["state"] == "missing"
