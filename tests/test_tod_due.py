"""ContactNow policy refreshes come from a due set too: a tick reads only the accounts that are due.

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

from wallboard.boards.models import Board, BoardQueue, ContactNowAccount, Tenant
from wallboard.polling import dispatch, tasks, tod
from wallboard.polling.keys import contactnow_due_key, contactnow_reconcile_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def board() -> Board:
    # Port 9 (discard): nothing answers, and nothing here calls it.
    tenant = Tenant.objects.create(name="T", base_url="http://127.0.0.1:9", tenant_name="t", token="x")
    return Board.objects.create(slug="cn", title="CN", tenant=tenant)


def followed_account(board: Board, n: int, **fields) -> ContactNowAccount:
    """An account one queue of the board follows (policy "10")."""
    account = ContactNowAccount.objects.create(name=f"A{n}", base_url="http://127.0.0.1:9", token="x", **fields)
    BoardQueue.objects.create(board=board, queue_id=str(1000 + n), position=n, contactnow_account=account, tod_policy="10")
    return account


def commands(redis_client) -> int:
    """Redis commands run since the last CONFIG RESETSTAT (Lua's inner calls included)."""
    stats = redis_client.info("commandstats")
    return sum(v["calls"] for k, v in stats.items() if k not in ("cmdstat_info", "cmdstat_config"))


def measure_tick(redis_client) -> tuple[int, int]:
    """(Redis commands, database queries) of one real tick."""
    redis_client.config_resetstat()
    with CaptureQueriesContext(connection) as queries:
        tasks.tick()
    return commands(redis_client), len(queries)


def put_to_sleep() -> None:
    """Claim everything due now, so nothing is due for a whole interval."""
    dispatch.claim_polls(0)
    dispatch.claim_due_schedule_refreshes()
    tod.claim_due_refreshes()
    tod.claim_due_refreshes()  # a claim that reconciled makes the new accounts due only after it


def test_it_does_the_same_redis_and_database_work_whatever_the_number_of_accounts_not_due(board, redis_client):
    due = [followed_account(board, n) for n in range(3)]
    tasks.tick()  # the first tick builds the due sets, reconciles, and opens the broker connection
    put_to_sleep()

    def tick_with_three_due() -> tuple[int, int]:
        for account in due:
            tod.refresh_now(account.pk)
        return measure_tick(redis_client)

    few = tick_with_three_due()
    for n in range(3, 203):
        followed_account(board, n)
    redis_client.delete(contactnow_reconcile_key())  # a minute later: the set learns the new ones
    put_to_sleep()
    many = tick_with_three_due()
    assert many == few, "the tick's work grew with accounts that were not due"
    # Before the due set a tick read every account's row and ran one SET NX per account.
    assert many[0] < 60 and many[1] == 0


def test_it_claims_a_followed_account_once_per_interval(board, redis_client):
    account = followed_account(board, 1, refresh_interval=120)
    unfollowed = ContactNowAccount.objects.create(name="Unused", base_url="http://127.0.0.1:9", token="x")
    before = time.time()
    assert tod.claim_due_refreshes() == [account.pk]
    assert tod.claim_due_refreshes() == []
    assert redis_client.zscore(contactnow_due_key(), str(account.pk)) == pytest.approx(before + 120, abs=1)
    assert redis_client.zscore(contactnow_due_key(), str(unfollowed.pk)) is None


def test_it_refreshes_at_the_next_tick_after_a_rule_is_saved(board, redis_client):
    account = followed_account(board, 1)
    tod.claim_due_refreshes()
    tod.refresh_now(account.pk)
    assert tod.claim_due_refreshes() == [account.pk]


def test_it_follows_accounts_enabled_disabled_and_followed_at_the_next_reconciliation(board, redis_client):
    kept = followed_account(board, 1)
    dropped = followed_account(board, 2)
    later = ContactNowAccount.objects.create(name="Later", base_url="http://127.0.0.1:9", token="x")
    tod.claim_due_refreshes()
    ContactNowAccount.objects.filter(pk=dropped.pk).update(enabled=False)
    BoardQueue.objects.create(board=board, queue_id="2000", position=9, contactnow_account=later, tod_policy="10")
    assert tod.claim_due_refreshes() == []
    redis_client.delete(contactnow_reconcile_key())  # a minute later
    assert tod.claim_due_refreshes() == []  # this claim reconciled; the new account is due from now on
    assert tod.claim_due_refreshes() == [later.pk]
    members = {int(m) for m in redis_client.zrange(contactnow_due_key(), 0, -1) if m != b"built"}
    assert members == {kept.pk, later.pk}


def test_it_rebuilds_the_set_after_redis_is_flushed(board, redis_client):
    accounts = [followed_account(board, n) for n in range(3)]
    tod.claim_due_refreshes()
    assert tod.claim_due_refreshes() == []
    redis_client.flushdb()  # as after a Redis restart without persistence
    assert sorted(tod.claim_due_refreshes()) == sorted(a.pk for a in accounts)
    assert tod.claim_due_refreshes() == [], "rebuilt once, not at every claim"


def test_it_claims_each_refresh_once_when_two_tick_loops_race(board, redis_client):
    accounts = [followed_account(board, n) for n in range(20)]
    tod.claim_due_refreshes()
    for account in accounts:
        tod.refresh_now(account.pk)
    claims: Counter[int] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(2)

    def loop() -> None:
        start.wait()
        for _ in range(30):
            found = tod.claim_due_refreshes()
            with lock:
                claims.update(found)

    threads = [threading.Thread(target=loop) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert claims == Counter({a.pk: 1 for a in accounts})
