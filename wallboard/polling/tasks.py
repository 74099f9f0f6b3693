"""Celery tasks: thin shells over the polling modules, each with a time limit.

A beat sends `tick` every second, on its own queue (settings.WALLBOARD_TICK_QUEUE) served by
a worker of its own, so a burst of polls never holds a tick back; the tick enqueues the polls
that are due. Any number of beats may run (docker-compose.yml runs two): each due poll is
claimed once, atomically in Redis (wallboard.polling.due). Poll tasks expire before the next
cycle, so after an outage a backlog is dropped instead of replayed.

Polls due together go out as batches (`poll_batch`, up to settings.WALLBOARD_POLL_BATCH
tenants), each tenant polled at its own time in a thread of the worker process: a process
waits on several tenants' 8x8 answers at once instead of one, and one Celery message carries
several polls. The pool stays prefork; the threads only overlap waiting.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from datetime import UTC, datetime
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.utils.log import get_task_logger
from django.conf import settings
from django.db import connections, reset_queries

from wallboard.polling import cycle, dispatch, schedules, tod

log = get_task_logger(__name__)

# Polls due within this many seconds of each other may share a batch (a batch holds its
# process from its first poll's time to its last one's end).
BATCH_SPAN = 0.1


@shared_task(ignore_result=True, soft_time_limit=5, time_limit=8)
def tick() -> int:
    """Enqueue every poll and schedule refresh that is due; return the number of polls."""
    due = dispatch.claim_polls()
    for batch in batches(due, settings.WALLBOARD_POLL_BATCH):
        first_eta = batch[0][1]
        poll_batch.apply_async(
            ([[tenant_id, eta] for tenant_id, eta, _ in batch],),
            eta=datetime.fromtimestamp(first_eta, UTC),
            expires=datetime.fromtimestamp(first_eta + min(i for _, _, i in batch) * 0.8, UTC),
        )
    for tenant_id in dispatch.claim_due_schedule_refreshes():
        refresh_schedules.apply_async((tenant_id,), expires=60)
    for account_id in tod.claim_due_refreshes():
        refresh_contactnow.apply_async((account_id,), expires=60)
    return len(due)


def batches(due: list[tuple[int, float, int]], size: int) -> list[list[tuple[int, float, int]]]:
    """Due polls in batches of at most `size` polls due within BATCH_SPAN of each other.

    A batch's message is due at its first poll and its members wait in their threads for
    their own times, holding the process meanwhile: so only polls due together share one. A
    group due together is cut into equal parts (20 polls, at most 8 a batch: 7, 7 and 6), so
    a burst is shared by as many processes as there are batches.
    """
    groups: list[list[tuple[int, float, int]]] = []
    for item in sorted(due, key=lambda item: item[1]):
        if groups and item[1] - groups[-1][0][1] <= BATCH_SPAN:
            groups[-1].append(item)
        else:
            groups.append([item])
    out = []
    for group in groups:
        parts = -(-len(group) // max(1, size))
        bounds = [round(i * len(group) / parts) for i in range(parts + 1)]
        out += [group[bounds[i]:bounds[i + 1]] for i in range(parts)]
    return out


# Celery takes fractional seconds, but celery-types declares time_limit an int: hence Any here
# rather than a cast to an int it is not.
_POLL_TIME_LIMIT: Any = 9.5


# Below the 10 s cycle: a stuck poll is cut before the next one is due.
@shared_task(ignore_result=True, soft_time_limit=9, time_limit=_POLL_TIME_LIMIT)
def poll_tenant(tenant_id: int) -> str:
    """One poll cycle of one tenant."""
    try:
        return _poll(tenant_id)
    except SoftTimeLimitExceeded:
        _gave_up(tenant_id)
        return "timeout"


@shared_task(ignore_result=True, soft_time_limit=9, time_limit=_POLL_TIME_LIMIT)
def poll_batch(items: list[list[float]]) -> dict[str, str]:
    """Several tenants' poll cycles, each at its own time, at once in this process's threads."""
    pool = _threads()
    futures: dict[int, Future[str]] = {}
    for tenant_id, eta in items:
        futures[int(tenant_id)] = pool.submit(_poll_at, int(tenant_id), float(eta))
    try:
        wait_all(futures.values())
    except SoftTimeLimitExceeded:
        # The threads cannot be cut; their requests may still be running at 8x8.
        for tenant_id, future in futures.items():
            if not future.done():
                _gave_up(tenant_id)
    return {str(t): (f.result() if f.done() and f.exception() is None else "timeout") for t, f in futures.items()}


def _poll_at(tenant_id: int, eta: float) -> str:
    """One poll in a pool thread, at its time (the phase lock's, to the millisecond)."""
    delay = eta - time.time()
    if delay > 0:
        time.sleep(delay)
    _keep_connections()
    reset_queries()  # DEBUG's query log, as wallboard.celery does for the main thread
    try:
        return _poll(tenant_id)
    except Exception:
        log.exception("tenant %s: poll failed", tenant_id)
        return "error"


def _keep_connections() -> None:
    """Keep this thread's database connection from poll to poll; drop it only once it failed.

    Celery closes the main thread's connection after each task (at CONN_MAX_AGE 0, the
    default), so a poll task connected anew every time: a new PostgreSQL backend per poll.
    A pool thread lives as long as its process and polls several times a cycle, so its one
    connection is kept whatever the age (the number of connections is the number of
    threads either way), and checked, as Celery does, after an error.
    """
    for conn in connections.all(initialized_only=True):
        conn.close_at = None
        conn.close_if_unusable_or_obsolete()


def _poll(tenant_id: int) -> str:
    outcome = cycle.poll_tenant(tenant_id).outcome
    if outcome == "disabled":
        # Disabled or deleted without the signal reaching Redis: stop claiming it.
        dispatch.forget_tenant(tenant_id)
    return outcome


def _gave_up(tenant_id: int) -> None:
    # Cut in the middle of a request, maybe: 8x8 may still be answering it.
    dispatch.hold_upstream(tenant_id)
    log.warning("tenant %s: poll ran over its time limit", tenant_id)


_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _threads() -> ThreadPoolExecutor:
    """This process's poll threads: made after the fork (threads do not survive one), kept after."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            size = settings.WALLBOARD_POLL_BATCH
            _pool = (os.getpid(), ThreadPoolExecutor(max_workers=size, thread_name_prefix="poll"))
        return _pool[1]


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def refresh_schedules(tenant_id: int) -> str:
    """Refresh one tenant's schedules and reconcile them with 8x8's /status."""
    try:
        return schedules.refresh_schedules(tenant_id)
    except SoftTimeLimitExceeded:
        dispatch.hold_upstream(tenant_id)
        log.warning("tenant %s: schedule refresh ran over its time limit", tenant_id)
        return "timeout"


@shared_task(ignore_result=True, soft_time_limit=20, time_limit=25)
def refresh_contactnow(account_id: int) -> str:
    """Refresh one ContactNow account's time-of-day policies and rules."""
    try:
        return tod.refresh_account(account_id)
    except SoftTimeLimitExceeded:
        log.warning("ContactNow account %s: policy refresh ran over its time limit", account_id)
        return "timeout"
