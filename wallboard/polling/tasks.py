"""Celery tasks: thin shells over the polling modules, each with a time limit.

A beat sends `tick` every second; the tick enqueues the polls that are due. Any number of
beats may run (docker-compose.yml runs two): each due poll is claimed once, atomically in
Redis (wallboard.polling.due). Poll tasks expire before the next cycle, so after an outage a
backlog is dropped instead of replayed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.utils.log import get_task_logger

from wallboard.polling import cycle, dispatch, schedules, tod

log = get_task_logger(__name__)


@shared_task(ignore_result=True, soft_time_limit=5, time_limit=8)
def tick() -> int:
    """Enqueue every poll and schedule refresh that is due."""
    due = dispatch.claim_polls()
    for tenant_id, eta, interval in due:
        poll_tenant.apply_async(
            (tenant_id,),
            eta=datetime.fromtimestamp(eta, UTC),
            expires=datetime.fromtimestamp(eta + interval * 0.8, UTC),
        )
    for tenant_id in dispatch.claim_due_schedule_refreshes():
        refresh_schedules.apply_async((tenant_id,), expires=60)
    for account_id in tod.claim_due_refreshes():
        refresh_contactnow.apply_async((account_id,), expires=60)
    return len(due)


# Celery takes fractional seconds, but celery-types declares time_limit an int: hence Any here
# rather than a cast to an int it is not.
_POLL_TIME_LIMIT: Any = 9.5


# Below the 10 s cycle: a stuck poll is cut before the next one is due.
@shared_task(ignore_result=True, soft_time_limit=9, time_limit=_POLL_TIME_LIMIT)
def poll_tenant(tenant_id: int) -> str:
    """One poll cycle of one tenant."""
    try:
        outcome = cycle.poll_tenant(tenant_id).outcome
    except SoftTimeLimitExceeded:
        # Cut in the middle of a request, maybe: 8x8 may still be answering it.
        dispatch.hold_upstream(tenant_id)
        log.warning("tenant %s: poll ran over its time limit", tenant_id)
        return "timeout"
    if outcome == "disabled":
        # Disabled or deleted without the signal reaching Redis: stop claiming it.
        dispatch.forget_tenant(tenant_id)
    return outcome


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
