"""Republishing the boards that show a campaign when a person changes it, badges within a second.

A board's state is written by the poller under its tenant lock; a republish between polls
takes the same lock (handed down by the polling app, which sits above this one), so the two
never write one board's seq at the same time. If a poll holds it for long, the poll itself
shows the new state: it reads the campaigns from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from wallboard.boards.state import BoardState
from wallboard.campaigns.models import Campaign
from wallboard.campaigns.selectors import badges_by_slug
from wallboard.live import store
from wallboard.live.boards import BoardCycle
from wallboard.live.messages import Status

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 3.0
TenantLockFactory = Callable[[int, float], AbstractContextManager[bool]]
_tenant_lock: TenantLockFactory | None = None


def use_tenant_lock(factory: TenantLockFactory) -> None:
    """Called once by the polling app: `factory(tenant_id, wait_seconds)` gives its tenant lock."""
    global _tenant_lock
    _tenant_lock = factory


def republish(campaign: Campaign) -> list[str]:
    """Send every board that shows the campaign its new badges; return the slugs sent."""
    slugs = list(campaign.boards.filter(tenant_id=campaign.tenant_id).values_list("slug", flat=True))
    if not slugs:
        return []
    try:
        if _tenant_lock is None:
            return _republish_locked(campaign.tenant_id, slugs)
        with _tenant_lock(campaign.tenant_id, LOCK_WAIT_SECONDS) as held:
            if not held:
                log.info("campaign %s: a poll is running; it shows the new state", campaign.pk)
                return []
            return _republish_locked(campaign.tenant_id, slugs)
    except Exception as exc:  # Redis or the channel layer down: the next poll shows it
        log.warning("campaign %s: could not republish %s now (%s); the next poll shows it", campaign.pk, slugs, exc)
        return []


def _republish_locked(tenant_id: int, slugs: Sequence[str]) -> list[str]:
    badges = badges_by_slug(tenant_id, slugs)
    cycle = BoardCycle(slugs)
    sent = []
    for slug in slugs:
        previous = cycle.previous(slug)
        head = store.load_head(slug)
        if previous is None or head is None:
            continue  # no state yet: the first poll publishes it with its campaigns
        if previous.get("campaigns") == badges[slug]:
            continue
        data: BoardState = {**previous, "campaigns": badges[slug]}
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
