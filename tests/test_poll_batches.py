"""Polls due together go out as batches polled in threads; the tick has a queue and a worker of its own.

Real Redis and the simulator (in this process) for the polls; docker-compose.yml read as YAML.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from wallboard.boards.models import Board, Tenant
from wallboard.live import store
from wallboard.polling import tasks
from wallboard.polling.keys import hold_key
from wallboard.simulator.server import SimulatorServer

ROOT = Path(__file__).resolve().parent.parent


def due(*etas: float) -> list[tuple[int, float, int]]:
    return [(n, eta, 10) for n, eta in enumerate(etas)]


def test_it_cuts_a_burst_into_equal_batches_of_at_most_the_size():
    burst = due(*[100.0 + i * 0.001 for i in range(20)])
    sizes = [len(b) for b in tasks.batches(burst, 8)]
    assert sorted(sizes, reverse=True) == [7, 7, 6]
    assert sorted(t for b in tasks.batches(burst, 8) for t, _, _ in b) == list(range(20))


def test_it_never_batches_polls_due_far_apart():
    # A batch holds its process from its first poll's time to its last one's end.
    spread = due(100.0, 100.05, 100.5, 100.9)
    assert [[t for t, _, _ in b] for b in tasks.batches(spread, 8)] == [[0, 1], [2], [3]]


def test_it_puts_a_batch_soonest_first():
    batch = tasks.batches(due(100.08, 100.0, 100.04), 8)
    assert [eta for _, eta, _ in batch[0]] == [100.0, 100.04, 100.08]


@pytest.fixture
def sim(redis_client):
    server = SimulatorServer(port=0, agents=5, queues=2, seed=3, tenants={f"t{n}": f"token-{n}" for n in range(3)})
    server.start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_it_polls_every_tenant_of_a_batch_at_its_own_time_at_once(sim):
    tenants = [Tenant.objects.create(name=f"T{n}", base_url=sim.base_url, tenant_name=f"t{n}", token=f"token-{n}")
               for n in range(3)]
    for tenant in tenants:
        Board.objects.create(slug=f"b{tenant.pk}", title="B", tenant=tenant)
    sim.latency_ms = 300  # each call waits; three tenants one after the other would take 1.8 s
    sim.reset_counters()
    now = time.time()
    start = time.monotonic()
    outcomes = tasks.poll_batch([[t.pk, now + 0.2] for t in tenants])
    took = time.monotonic() - start
    assert outcomes == {str(t.pk): "ok" for t in tenants}
    assert all(store.load(f"b{t.pk}") is not None for t in tenants)
    calls = [(at, kind) for at, who, kind in list(sim.request_log) if kind == "agents"]
    assert len(calls) == 3 and all(at >= now + 0.2 for at, _ in calls), "a poll came before its time"
    # At once: together they took about one tenant's two calls, not three tenants'.
    assert took < 1.5, f"{took:.2f} s"


@pytest.mark.django_db(transaction=True)
def test_it_holds_back_a_tenant_whose_batch_ran_out_of_time(sim, redis_client, monkeypatch):
    tenant = Tenant.objects.create(name="T0", base_url=sim.base_url, tenant_name="t0", token="token-0")

    def cut(*args, **kwargs):
        raise tasks.SoftTimeLimitExceeded()

    # As Celery's soft limit does: the exception comes in the task's thread while it waits.
    monkeypatch.setattr(tasks, "wait_all", cut)
    assert tasks.poll_batch([[tenant.pk, time.time() + 0.5]]) == {str(tenant.pk): "timeout"}
    assert redis_client.get(hold_key(tenant.pk)) is not None


def test_it_runs_the_tick_on_its_own_queue_and_worker_in_production():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    queue = services["ticker"]["environment"]["WALLBOARD_TICK_QUEUE"]
    ticker, worker = services["ticker"]["command"], services["worker"]["command"]
    assert ticker[ticker.index("-Q") + 1] == queue
    assert queue not in worker[worker.index("-Q") + 1].split(","), "the poll worker would hold ticks back"
    assert services["ticker"]["deploy"]["replicas"] >= 2, "losing the ticker would stop polling"


def test_it_routes_the_tick_to_its_queue(settings):
    from wallboard.celery import app

    assert app.amqp.router.route({}, "wallboard.polling.tasks.tick")["queue"].name == settings.WALLBOARD_TICK_QUEUE
    assert app.amqp.router.route({}, "wallboard.polling.tasks.poll_batch")["queue"].name == "celery"
