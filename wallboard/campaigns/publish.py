"""Republishing the boards that show a campaign when a person changes it, badges within a second.

Under the poller's tenant lock, through wallboard.live.republish like announcements; if a
poll holds the lock for long, the poll itself shows the new state: it reads the campaigns
from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from wallboard.boards.state import BoardState
from wallboard.campaigns.models import Campaign
from wallboard.campaigns.selectors import badges_by_slug
from wallboard.live.republish import republish_states, under_tenant_lock

log = logging.getLogger(__name__)


def republish(campaign: Campaign) -> list[str]:
    """Send every board that shows the campaign its new badges; return the slugs sent."""
    slugs = list(campaign.boards.filter(tenant_id=campaign.tenant_id).values_list("slug", flat=True))
    if not slugs:
        return []
    try:
        return under_tenant_lock(
            campaign.tenant_id, lambda: _republish_locked(campaign.tenant_id, slugs), f"campaign {campaign.pk}"
        )
    except Exception as exc:  # Redis or the channel layer down: the next poll shows it
        log.warning("campaign %s: could not republish %s now (%s); the next poll shows it", campaign.pk, slugs, exc)
        return []


def _republish_locked(tenant_id: int, slugs: Sequence[str]) -> list[str]:
    badges = badges_by_slug(tenant_id, slugs)

    def update(slug: str, previous: BoardState) -> BoardState | None:
        if previous.get("campaigns") == badges[slug]:
            return None
        return {**previous, "campaigns": badges[slug]}

    return republish_states(slugs, update)
