"""One poll cycle of one tenant: fetch, record health, compute every board, hand them to live/.

One poll makes exactly one agents call and one queues call, under the tenant lock, so
upstream load does not depend on the number of boards or screens. Epochs, seqs and patches
are wallboard.live.boards' business: this module only says what each board shows now.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from wallboard.alerts import hooks as alert_hooks
from wallboard.boards.models import Tenant, TenantHealth
from wallboard.boards.state import EMPTY, TenantSnapshot, compute_board_state, compute_boards
from wallboard.campaigns import hooks as campaign_hooks
from wallboard.live.boards import BoardCycle
from wallboard.polling import boardcache, clients
from wallboard.polling.catalogue import catalogue_from_records, update_catalogue
from wallboard.polling.dispatch import hold_upstream, lock_ttl, poll_after, upstream_held
from wallboard.polling.health import log_unexpected, record_failure, record_success, status_dict, tenant_label
from wallboard.polling.lock import TenantLock
from wallboard.polling.phase import fingerprint, plan_next_poll
from wallboard.polling.schedules import known_schedules, schedule_states
from wallboard.vcc.errors import VccError

if TYPE_CHECKING:
    from wallboard.vcc.records import Agent, Queue

log = logging.getLogger(__name__)


@dataclass
class PollResult:
    """What one poll did (for tasks, tests and benchmarks)."""

    outcome: str  # "ok", a failure kind, "locked", "held" or "disabled"
    boards: int = 0
    latency_ms: int | None = None


def poll_tenant(tenant_id: int) -> PollResult:
    """One cycle for one tenant: fetch, record health, publish every board."""
    # From this process's copy unless admin changed something since (one Redis GET).
    tenant = boardcache.tenant(tenant_id)
    if tenant is None or not tenant.enabled:
        return PollResult("disabled")
    # A schedule refresh call may hold the lock for a moment; a previous poll is another matter.
    with TenantLock(tenant.pk, lock_ttl(tenant), wait_seconds=2) as held:
        if not held:
            # Every cycle while it lasts; an overrun poll is logged by its time limit.
            log.debug("%s: previous poll still running; skipping this cycle", tenant_label(tenant))
            return PollResult("locked")
        if upstream_held(tenant.pk):
            return _heartbeat(tenant)
        return _poll_locked(tenant)


def _heartbeat(tenant: Tenant) -> PollResult:
    """A cycle without calling 8x8: every board gets an empty patch and its current status."""
    health, _ = TenantHealth.objects.get_or_create(tenant=tenant)
    status = status_dict(health)
    configs = boardcache.board_configs(tenant.pk)
    boards = BoardCycle(c.slug for c in configs)
    for config in configs:
        boards.repeat(config.slug, status)
    # No states: feed rules and announcements follow the clock; metric rules wait for figures.
    alert_hooks.after_cycle(tenant, health, {}, configs, timezone.now())
    return PollResult("held", len(configs))


def _poll_locked(tenant: Tenant) -> PollResult:
    started = time.monotonic()
    fetched_at = timezone.now()
    snapshot = None
    error = None
    try:
        client = clients.client_for(tenant)
        # When the agents request goes out, not when the poll began: the phase lock places polls
        # against upstream's refresh, and the client and database setup before it vary with load.
        polled_at = time.time()
        agent_records = client.agents()
        queue_records = client.queues()
    except VccError as exc:
        error = exc
        if exc.kind == "timeout":
            hold_upstream(tenant.pk)
    except SoftTimeLimitExceeded:
        raise  # the task holds the tenant back: 8x8 may still be answering
    except Exception as exc:
        # Not the client's typed failure: a bug here or in a library. The board still gets a
        # status and /healthz a state, instead of "pending" for ever.
        log_unexpected(tenant, "poll", exc)
        error = VccError(f"unexpected {type(exc).__name__}; see the worker log")
    latency_ms = int((time.monotonic() - started) * 1000)
    if error is None:
        health = record_success(tenant, latency_ms, fetched_at)
        snapshot = TenantSnapshot.from_records(agent_records, queue_records)
        _refresh_catalogue(tenant, agent_records, queue_records, fetched_at)
        plan_next_poll(tenant.pk, tenant.poll_interval, polled_at, fingerprint(agent_records, queue_records))
    else:
        health = record_failure(tenant, error, latency_ms, fetched_at)
        if error.kind in ("unauthorised", "unreadable_secret"):
            # Nothing changes by retrying every cycle; saving the tenant makes it due at once.
            poll_after(tenant.pk, settings.WALLBOARD_UNAUTHORISED_RETRY)
    configs = alert_hooks.with_announcements(boardcache.board_configs(tenant.pk), fetched_at)
    configs = campaign_hooks.with_campaigns(tenant, configs, snapshot, fetched_at)
    schedule_ids = set().union(*(c.schedule_ids() for c in configs)) if configs else set()
    schedules = schedule_states(tenant, schedule_ids, fetched_at)
    known = known_schedules(tenant.pk, schedule_ids, schedules)
    status = status_dict(health)
    boards = BoardCycle(c.slug for c in configs)
    now = int(fetched_at.timestamp())
    if snapshot is not None:
        previous = {c.slug: boards.previous(c.slug) for c in configs}
        states = compute_boards(configs, snapshot, schedules, previous, now, known)
        as_of = fetched_at.astimezone(UTC).isoformat()
    for config in configs:
        stored = boards.previous(config.slug) is not None
        if not stored:
            # Once per board: its first publication, or the first after Redis lost its state.
            log.info("%s: board %r: publishing a new epoch (no state in Redis)", tenant_label(tenant), config.slug)
        if snapshot is not None:
            boards.publish(config.slug, states[config.slug], as_of, status)
        elif stored:
            boards.repeat(config.slug, status)
        else:
            empty = compute_board_state(config, EMPTY, schedules, None, now, known)
            boards.publish(config.slug, empty, None, status)
    alert_hooks.after_cycle(tenant, health, states if snapshot is not None else {}, configs, fetched_at)
    return PollResult(error.kind if error else "ok", len(configs), latency_ms)


def _refresh_catalogue(tenant: Tenant, agent_records: list[Agent], queue_records: list[Queue], at: datetime) -> None:
    update_catalogue(tenant.pk, **catalogue_from_records(agent_records, queue_records), as_of=at.isoformat())
