"""The second 503 rule: "more than 10 customers hitting the CCM API at the same time".

A customer is a tenant (the account a request authenticates as), as in the first rule, "only
single request per customer at a time". The simulator refuses the request that makes an
eleventh tenant with a request in flight; one deployment's polls must never be that request.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import requests

from tests.helpers import wait_for
from tests.pipeline_helpers import Clock
from wallboard.simulator.server import SimulatorServer

NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC).timestamp()
AGENTS = "/api/rtstats/stats/agents.json"
SCHEDULES = "/api/provisioning/schedules.json"
ELEVEN = {f"t{n:02d}": f"token-{n}" for n in range(1, 12)}
# The production worker (docker-compose.yml): one prefork worker running 4 tasks at once.
WORKER_CONCURRENCY = 4


def get(sim: SimulatorServer, tenant: str, path: str = AGENTS) -> requests.Response:
    return requests.get(sim.base_url + path, auth=(tenant, sim.tenants[tenant]), timeout=30)


def in_background(sim: SimulatorServer, tenants: list[str]) -> tuple[list[threading.Thread], dict[str, int]]:
    """One held request per tenant, each from its own thread; their status codes land in the dict."""
    codes: dict[str, int] = {}

    def call(tenant: str) -> None:
        codes[tenant] = get(sim, tenant).status_code

    threads = [threading.Thread(target=call, args=(tenant,)) for tenant in tenants]
    for thread in threads:
        thread.start()
    wait_for(lambda: sim.state()["customers_in_flight"] == len(tenants))
    return threads, codes


def test_it_answers_503_to_an_eleventh_customer_calling_at_once():
    # Held answers keep the first ten in flight while the eleventh calls.
    with SimulatorServer(port=0, agents=3, queues=1, clock=lambda: NOON, latency_ms=2000, tenants=ELEVEN) as sim:
        *ten, eleventh = sorted(ELEVEN)
        threads, codes = in_background(sim, ten)
        refused = get(sim, eleventh, SCHEDULES)
        for thread in threads:
            thread.join()
        state = sim.state()
    assert refused.status_code == 503 and "too many customers" in refused.text
    assert codes == {tenant: 200 for tenant in ten}
    assert state["busy_by_rule"] == {"one_per_customer": 0, "customers_at_once": 1}
    assert state["max_customers_in_flight"] == 11 and state["customers_in_flight"] == 0


def test_it_counts_a_tenant_as_one_customer_however_many_requests_it_sends():
    tenants = {"a": "token-a", "b": "token-b"}
    with SimulatorServer(port=0, agents=3, queues=1, clock=lambda: NOON, latency_ms=1500, tenants=tenants,
                         max_customers=1) as sim:
        threads, codes = in_background(sim, ["a"])
        second_of_a, first_of_b = get(sim, "a"), get(sim, "b")
        for thread in threads:
            thread.join()
        state = sim.state()
    assert codes == {"a": 200}
    assert second_of_a.status_code == 503 and "one request per customer" in second_of_a.text
    assert first_of_b.status_code == 503 and "too many customers" in first_of_b.text
    assert state["busy_by_rule"] == {"one_per_customer": 1, "customers_at_once": 1}
    assert state["max_customers_in_flight"] == 2


def test_it_lets_eleven_customers_call_at_once_with_the_rule_off():
    with SimulatorServer(port=0, agents=3, queues=1, clock=lambda: NOON, latency_ms=1500, tenants=ELEVEN,
                         max_customers=None) as sim:
        *ten, eleventh = sorted(ELEVEN)
        threads, codes = in_background(sim, ten)
        assert get(sim, eleventh).status_code == 200
        for thread in threads:
            thread.join()
        assert sim.state()["busy_rejections"] == 0


def test_it_changes_the_limit_through_the_control_endpoint():
    with SimulatorServer(port=0, agents=3, queues=1, clock=lambda: NOON) as sim:
        config = sim.base_url + "/_sim/config"
        assert sim.state()["config"]["max_customers"] == 10
        assert requests.post(config, json={"max_customers": 3}, timeout=10).json()["max_customers"] == 3
        assert requests.post(config, json={"max_customers": 0}, timeout=10).status_code == 400
        assert requests.post(config, json={"max_customers": True}, timeout=10).status_code == 400
        assert requests.post(config, json={"max_customers": None}, timeout=10).json()["max_customers"] is None
    with pytest.raises(ValueError):
        SimulatorServer(port=0, max_customers=0)


class Worker:
    """Runs poll tasks the way a prefork worker does: up to `concurrency` at once, in threads.

    The test database is an in-memory SQLite shared by the threads, which refuses a second
    writer at once instead of waiting (in production each worker process has its own connection
    to a database that waits). So the threads take turns at the database and overlap only where
    this test looks: while they wait for 8x8.
    """

    def __init__(self, concurrency: int, monkeypatch: pytest.MonkeyPatch) -> None:
        self.concurrency = concurrency
        self.database = threading.Lock()
        # Every client's request goes through Session.request (wallboard/vcc/http.py send()).
        upstream = requests.Session.request
        database = self.database

        def get_without_the_database(session, *args, **kwargs):
            database.release()
            try:
                return upstream(session, *args, **kwargs)
            finally:
                database.acquire()

        monkeypatch.setattr(requests.Session, "request", get_without_the_database)

    def run(self, task, tenant_ids: list[int]) -> list:
        def one(tenant_id: int):
            with self.database:
                return task(tenant_id)

        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(one, tenant_ids))


@pytest.mark.django_db(transaction=True)
def test_it_is_never_tripped_by_one_deployments_polls(redis_client, monkeypatch):
    from wallboard.boards.models import Board, BoardQueue, Tenant
    from wallboard.polling.cycle import poll_tenant
    from wallboard.polling.schedules import refresh_schedules

    # Twelve tenants on one platform, more than the rule allows at once, each with a board and
    # a schedule, refreshed and polled for a few cycles the way the production worker runs them.
    tenants = {f"acme{n:02d}": f"token-{n}" for n in range(1, 13)}
    clock = Clock()
    with SimulatorServer(port=0, agents=20, queues=3, seed=3, clock=clock, tenants=tenants, latency_ms=100) as sim:
        ids = []
        for name, token in tenants.items():
            tenant = Tenant.objects.create(name=name, base_url=sim.base_url, tenant_name=name, token=token)
            board = Board.objects.create(slug=name, title=name, tenant=tenant)
            BoardQueue.objects.create(board=board, queue_id="201", schedule_id="101", position=0)
            ids.append(tenant.pk)
        worker = Worker(WORKER_CONCURRENCY, monkeypatch)
        sim.reset_counters()
        outcomes = worker.run(refresh_schedules, ids)
        for _ in range(3):
            clock.advance(10)
            outcomes += [result.outcome for result in worker.run(poll_tenant, ids)]
        state = sim.state()
    assert outcomes == ["ok"] * len(ids) * 4
    assert state["busy_by_rule"] == {"one_per_customer": 0, "customers_at_once": 0}
    assert all(state["max_in_flight"][name] == 1 for name in tenants), "every tenant called, one request at a time"
    # Tenants did call at the same time, never more of them than the worker runs tasks.
    assert 2 <= state["max_customers_in_flight"] <= WORKER_CONCURRENCY
