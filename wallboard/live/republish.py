"""Republishing boards between polls: a person changed something a board shows (announcements, campaigns).

A board's state is written by the poller under its tenant lock; a republish between polls
takes the same lock, so the two never hand out one board's seq at the same time. The lock is
the poller's (wallboard.polling.lock) and polling sits above live, so the polling app hands it
down once when it loads (`use_tenant_lock`) instead of this module importing it. If a poll
holds the lock for long, the poll itself shows the change: it reads it from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from wallboard.boards.state import BoardState
from wallboard.live import store
from wallboard.live.boards import BoardCycle
from wallboard.live.messages import Status

log = logging.getLogger(__name__)

# How long a republish waits for a poll of the same tenant to finish before leaving the
# change to the next poll.
LOCK_WAIT_SECONDS = 3.0

TenantLockFactory = Callable[[int, float], AbstractContextManager[bool]]
Update = Callable[[str, BoardState], BoardState | None]
_tenant_lock: TenantLockFactory | None = None


def use_tenant_lock(factory: TenantLockFactory) -> None:
    """Called once by the polling app: `factory(tenant_id, wait_seconds)` gives its tenant lock."""
    global _tenant_lock
    _tenant_lock = factory


def under_tenant_lock(tenant_id: int, work: Callable[[], list[str]], what: str) -> list[str]:
    """work() under the tenant's poll lock; [] when a poll holds it (that poll shows the change)."""
    if _tenant_lock is None:
        return work()
    with _tenant_lock(tenant_id, LOCK_WAIT_SECONDS) as held:
        if not held:
            log.info("%s: a poll is running; it shows the change", what)
            return []
        return work()


def republish_states(slugs: Sequence[str], update: Update) -> list[str]:
    """Publish update(slug, stored state) for each board; None skips it. Returns the slugs sent.

    For a caller that holds the tenant lock. A board with no stored state yet is skipped: its
    first poll publishes it, change included. The status and as_of stay the stored ones.
    """
    cycle = BoardCycle(slugs)
    sent = []
    for slug in slugs:
        previous = cycle.previous(slug)
        head = store.load_head(slug)
        if previous is None or head is None:
            continue
        data = update(slug, previous)
        if data is None:
            continue
        raw = head.status
        status: Status = {
            "state": str(raw.get("state") or "pending"),
            "since": raw.get("since"),
            "last_ok": raw.get("last_ok"),
            "message": str(raw.get("message") or ""),
        }
        cycle.publish(slug, data, head.as_of, status)
        sent.append(slug)
    return sent
