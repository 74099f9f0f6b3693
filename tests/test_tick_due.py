"""The tick reads only what is due: due sets in Redis, claimed atomically, rebuilt when lost.

Real Redis (the session's private server). Work is counted, not timed: Redis commands from
INFO commandstats (commands run inside a Lua script count too), database queries from
Django's CaptureQueriesContext.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wallboard.boards.models import Tenant
from wallboard.polling import dispatch, phase, tasks
from wallboard.polling.keys import polls_due_key, reconcile_key

pytestmark = pytest.mark.django_db


def make_tenant(n: int, **fields) -> Tenant:
    # Port 9 (discard): nothing answers, and nothing here polls it.
    return Tenant.objects.create(name=f"T{n}", base_url="http://127.0.0.1:9", tenant_name=f"t{n}", token="x", **fields)


def claimed_ids(horizon: float | None = None) -> list[int]:
    return [t for t, _, _ in dispatch.claim_polls(horizon)]


def commands(redis_client) -> int:
    """Redis commands run since the last CONFIG RESETSTAT (Lua's inner calls included)."""
    stats = redis_client.info("commandstats")
    return sum(v["calls"] for k, v in stats.items() if k not in ("cmdstat_info", "cmdstat_config"))


def measure_tick(redis_client) -> tuple[int, int, int]:
    """(polls enqueued, Redis commands, database queries) of one real tick."""
    redis_client.config_resetstat()
    with CaptureQueriesContext(connection) as queries:
        enqueued = tasks.tick()
    return enqueued, commands(redis_client), len(queries)


def put_to_sleep() -> None:
    """Claim everything due now, so nothing is due for a whole interval."""
    dispatch.claim_polls(0)
    dispatch.claim_due_schedule_refreshes()


def test_it_claims_a_due_tenant_once_and_moves_it_one_interval_on(redis_client):
    tenant = make_tenant(1, poll_interval=20)
    before = time.time()
    [(tenant_id, eta, interval)] = dispatch.claim_polls()
    assert (tenant_id, interval) == (tenant.pk, 20)
    assert before - 0.01 <= eta <= time.time() + 0.01
    assert claimed_ids(horizon=19) == []
    # Due again one interval after the claimed time, not after the end of the tick.
    assert redis_client.zscore(polls_due_key(), str(tenant.pk)) == pytest.approx(eta + 20, abs=0.002)
    assert claimed_ids(horizon=21) == [tenant.pk]


def test_it_does_the_same_redis_and_database_work_whatever_the_number_of_tenants_not_due(redis_client):
    due = [make_tenant(n) for n in range(3)]
    tasks.tick()  # the first tick builds the due sets, reconciles, and opens the broker connection
    put_to_sleep()

    def tick_with_three_due() -> tuple[int, int, int]:
        for tenant in due:
            dispatch.poll_now(tenant.pk)
        return measure_tick(redis_client)

    few = tick_with_three_due()
    for n in range(3, 203):
        make_tenant(n)
    put_to_sleep()
    many = tick_with_three_due()
    assert few[0] == many[0] == 3
    assert many == few, "the tick's work grew with tenants that were not due"
    # Before the due sets a tick ran one script per enabled tenant: over 200 here.
    assert many[1] < 60 and many[2] <= 2


def test_it_sends_no_database_query_for_polls(redis_client):
    tenants = [make_tenant(n) for n in range(4)]
    dispatch.claim_polls(0)  # builds the sets (one query) and reconciles (one query)
    for tenant in tenants:
        dispatch.poll_now(tenant.pk)
    with CaptureQueriesContext(connection) as queries:
        assert sorted(claimed_ids()) == sorted(t.pk for t in tenants)
    assert len(queries) == 0


def test_it_picks_up_tenants_added_enabled_disabled_and_removed(redis_client):
    first = make_tenant(1)
    assert claimed_ids() == [first.pk]
    added = make_tenant(2)
    assert claimed_ids() == [added.pk]
    added.enabled = False
    added.save()
    first.enabled = False
    first.save()
    assert claimed_ids(horizon=3600) == []
    assert dispatch.claim_due_schedule_refreshes() == []
    first.enabled = True
    first.save()
    assert claimed_ids() == [first.pk], "an enabled tenant is due at once"
    assert dispatch.claim_due_schedule_refreshes() == [first.pk]
    first.delete()
    assert claimed_ids(horizon=3600) == []
    assert redis_client.hlen("wb:due:intervals") == 0


def test_it_uses_a_changed_interval_from_the_next_claim(redis_client):
    tenant = make_tenant(1, poll_interval=10)
    tenant.poll_interval = 30
    tenant.save()
    [(_, eta, interval)] = dispatch.claim_polls()
    assert interval == 30
    assert claimed_ids(horizon=29) == []


def test_it_rebuilds_the_due_sets_after_redis_is_flushed(redis_client):
    tenants = [make_tenant(n) for n in range(3)]
    disabled = make_tenant(9, enabled=False)
    put_to_sleep()
    assert claimed_ids() == []
    redis_client.flushdb()  # as after a Redis restart without persistence
    assert sorted(claimed_ids()) == sorted(t.pk for t in tenants)
    assert sorted(dispatch.claim_due_schedule_refreshes()) == sorted(t.pk for t in tenants)
    assert disabled.pk not in claimed_ids(horizon=3600)
    assert claimed_ids(horizon=5) == [], "rebuilt once, not at every claim"


def test_it_keeps_tenants_times_when_it_rebuilds_next_to_a_running_beat(redis_client):
    tenant = make_tenant(1)
    dispatch.claim_polls(0)
    score = redis_client.zscore(polls_due_key(), str(tenant.pk))
    dispatch.rebuild_due_sets()
    assert redis_client.zscore(polls_due_key(), str(tenant.pk)) == score


def test_it_reconciles_tenants_changed_behind_the_signals_back(redis_client):
    kept, dropped = make_tenant(1), make_tenant(2)
    hidden = make_tenant(3, enabled=False)
    put_to_sleep()
    # A bulk update sends no signal: the sets learn it at the next reconciliation.
    Tenant.objects.filter(pk=hidden.pk).update(enabled=True)
    Tenant.objects.filter(pk=dropped.pk).update(enabled=False)
    assert claimed_ids() == []
    redis_client.delete(reconcile_key())  # a minute later
    assert claimed_ids() == []  # this claim reconciled; the new tenant is due from now on
    assert claimed_ids() == [hidden.pk]
    assert kept.pk in [int(m) for m in redis_client.zrange(polls_due_key(), 0, -1) if m != b"built"]
    assert dropped.pk not in [int(m) for m in redis_client.zrange(polls_due_key(), 0, -1) if m != b"built"]


def test_it_forgets_a_tenant_whose_poll_finds_it_disabled(redis_client):
    tenant = make_tenant(1)
    dispatch.claim_polls(0)
    # Disabled without a signal (a bulk update, or Redis unreachable at the save).
    Tenant.objects.filter(pk=tenant.pk).update(enabled=False)
    assert tasks.poll_tenant(tenant.pk) == "disabled"
    assert redis_client.zscore(polls_due_key(), str(tenant.pk)) is None


def test_it_follows_the_phase_lock_plan(redis_client):
    tenant = make_tenant(1)
    dispatch.claim_polls(0)
    now = time.time()
    planned = phase.plan_next_poll(tenant.pk, 10, now, "first answer")
    # Whatever the lock chose (it plans sooner than the claim's whole interval while it
    # searches), the tenant is due exactly then.
    assert now < planned < now + 10
    assert claimed_ids(horizon=planned - time.time() - 0.1) == []
    [(_, eta, _)] = dispatch.claim_polls(planned - time.time() + 0.1)
    assert eta == pytest.approx(planned, abs=0.002)
    # A plan for a tenant disabled meanwhile does not bring it back.
    tenant.enabled = False
    tenant.save()
    phase.plan_next_poll(tenant.pk, 10, time.time(), "another")
    assert redis_client.zscore(polls_due_key(), str(tenant.pk)) is None


def test_it_holds_a_retry_back(redis_client):
    tenant = make_tenant(1)
    put_to_sleep()
    dispatch.poll_now(tenant.pk)
    dispatch.poll_after(tenant.pk, 60)
    dispatch.retry_schedules_after(tenant.pk, 60)
    assert claimed_ids(horizon=50) == []
    assert dispatch.claim_due_schedule_refreshes() == []
    assert claimed_ids(horizon=61) == [tenant.pk]


def test_it_claims_each_poll_once_when_two_tick_loops_race(redis_client):
    tenants = [make_tenant(n, poll_interval=300) for n in range(40)]
    dispatch.claim_polls(0)
    for tenant in tenants:
        dispatch.poll_now(tenant.pk)
    claims: Counter[int] = Counter()
    schedule_claims: Counter[int] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(2)

    def loop() -> None:
        start.wait()
        for _ in range(50):
            polls = claimed_ids()
            schedules = dispatch.claim_due_schedule_refreshes()
            with lock:
                claims.update(polls)
                schedule_claims.update(schedules)

    threads = [threading.Thread(target=loop) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert claims == Counter({t.pk: 1 for t in tenants})
    assert schedule_claims == Counter({t.pk: 1 for t in tenants})
