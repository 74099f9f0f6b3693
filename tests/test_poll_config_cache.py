"""Polls keep the tenant and its board configurations in memory, and see every admin change.

Real Redis, real HTTP to the simulator. Changes are made as admin makes them: saves and deletes
inside a transaction.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.pipeline_helpers import Clock, make_board
from wallboard.boards.models import Board, BoardAgentGroup, BoardQueue, ContactNowAccount, QueueGroup, Tenant, Threshold
from wallboard.boards.selectors import board_configs_for_tenant
from wallboard.live import store
from wallboard.polling import boardcache
from wallboard.polling.cycle import poll_tenant
from wallboard.simulator.server import SimulatorServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def setup(clock, redis_client):
    server = SimulatorServer(port=0, agents=20, queues=6, seed=5, clock=clock)
    server.start()
    boardcache.forget()
    tenant, board, _ = make_board(server.base_url)
    yield tenant, board, clock
    server.stop()


def poll(tenant: Tenant, clock: Clock) -> str:
    clock.advance(10)
    return poll_tenant(tenant.pk).outcome


def assert_configs_current(tenant: Tenant) -> None:
    """What polls use is what the database says now."""
    assert boardcache.board_configs(tenant.pk) == board_configs_for_tenant(Tenant.objects.get(pk=tenant.pk))


def test_it_does_not_read_boards_from_the_database_while_nothing_changed(setup):
    tenant, board, clock = setup
    assert poll(tenant, clock) == "ok"
    with CaptureQueriesContext(connection) as queries:
        assert poll(tenant, clock) == "ok"
    tables = [q["sql"].split(" FROM ", 1)[-1].split(" ", 1)[0] for q in queries.captured_queries]
    assert not {'"boards_tenant"', '"boards_board"', '"boards_boardqueue"', '"boards_threshold"'} & set(tables)


def test_it_shows_board_and_tenant_changes_at_the_next_poll(setup):
    tenant, board, clock = setup
    poll(tenant, clock)
    with transaction.atomic():
        board.title = "Renamed"
        board.save()
    poll(tenant, clock)
    assert store.load(board.slug).data["board"]["title"] == "Renamed"
    with transaction.atomic():
        tenant.poll_interval = 15
        tenant.save()
    poll(tenant, clock)
    assert store.load(board.slug).data["board"]["cycle_seconds"] == 15
    with transaction.atomic():
        tenant.enabled = False
        tenant.save()
    assert poll(tenant, clock) == "disabled"


def test_it_shows_queue_group_and_threshold_changes_at_the_next_poll(setup):
    tenant, board, clock = setup
    poll(tenant, clock)
    queue = board.queues.order_by("position").first()
    with transaction.atomic():
        queue.label = "Renamed queue"
        queue.save()
    poll(tenant, clock)
    assert store.load(board.slug).data["queues"][queue.queue_id]["name"] == "Renamed queue"
    changes = [
        lambda: QueueGroup.objects.filter(board=board).first().delete(),
        lambda: BoardAgentGroup.objects.create(board=board, group_id=7, name="Sevens"),
        lambda: Threshold.objects.get(board=board).delete(),
        lambda: Threshold.objects.create(board=board, metric="longest_wait", warn=30, alert=60),
        lambda: BoardQueue.objects.filter(board=board).order_by("-position").first().delete(),
        lambda: Board.objects.create(slug="second", title="Second", tenant=tenant),
    ]
    for change in changes:
        with transaction.atomic():
            change()
        poll(tenant, clock)
        assert_configs_current(tenant)
    assert store.load("second") is not None


def test_it_follows_a_contactnow_account_deleted_under_its_queues(setup):
    tenant, board, clock = setup
    account = ContactNowAccount.objects.create(name="CN", base_url="http://127.0.0.1:9", token="x")
    BoardQueue.objects.filter(pk=board.queues.first().pk).update(contactnow_account=account, tod_policy="10")
    Board.objects.get(pk=board.pk).save()  # as admin saves the board with its queues
    poll(tenant, clock)
    assert any(q.schedule_id.startswith("cn:") for q in boardcache.board_configs(tenant.pk)[0].queues)
    with transaction.atomic():
        account.delete()  # the queues' account is set to NULL by an update: no signal of theirs
    poll(tenant, clock)
    assert_configs_current(tenant)
    assert not any(q.schedule_id.startswith("cn:") for q in boardcache.board_configs(tenant.pk)[0].queues)


def test_it_reads_the_database_again_after_redis_lost_its_data(setup, redis_client):
    tenant, board, clock = setup
    poll(tenant, clock)
    Board.objects.filter(pk=board.pk).update(title="Changed without signals")
    redis_client.flushdb()
    poll(tenant, clock)
    assert store.load(board.slug).data["board"]["title"] == "Changed without signals"
