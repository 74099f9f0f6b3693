"""Reads: who may control which board's campaigns, and what each board shows of them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from wallboard.boards.models import Board
from wallboard.boards.state import CampaignBadge
from wallboard.campaigns.models import Campaign, CampaignGrant

PURGE_PERMISSION = "campaigns.purge_campaign"


def _active(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def may_control(user: Any, board: Board) -> bool:
    """Superusers, and the users and groups the board's campaign grant names.

    Seeing a board is not enough (staff see every board): controlling its campaigns changes
    what a whole floor of agents does, so it is granted on its own.
    """
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    grant = CampaignGrant.objects.filter(board=board).first()
    if grant is None:
        return False
    return grant.users.filter(pk=user.pk).exists() or grant.groups.filter(pk__in=user.groups.values("pk")).exists()


def may_purge(user: Any, board: Board) -> bool:
    """Purging deletes the campaign's records in 8x8: administrators only (superusers, or the permission)."""
    return may_control(user, board) and bool(user.is_superuser or user.has_perm(PURGE_PERMISSION))


def campaigns_on(board: Board) -> QuerySet[Campaign]:
    """The campaigns a board shows (of its own tenant only)."""
    return Campaign.objects.filter(boards=board, tenant_id=board.tenant_id).order_by("name", "pk")


def badge(campaign: Campaign) -> CampaignBadge:
    """What a board shows of one campaign."""
    return {
        "id": campaign.campaign_id,
        "name": campaign.name,
        "state": campaign.state.lower(),
        "source": campaign.state_source,
        "by": campaign.state_by,
        "at": campaign.state_at.isoformat().replace("+00:00", "Z") if campaign.state_at else None,
    }


def badges_by_slug(tenant_id: int, slugs: Iterable[str]) -> dict[str, list[CampaignBadge]]:
    """Every board's campaign badges, in one query."""
    wanted = set(slugs)
    found: dict[str, list[CampaignBadge]] = {slug: [] for slug in wanted}
    campaigns = (
        Campaign.objects.filter(tenant_id=tenant_id, boards__slug__in=wanted)
        .prefetch_related("boards")
        .order_by("name", "pk")
        .distinct()
    )
    for campaign in campaigns:
        entry = badge(campaign)
        for board in campaign.boards.all():
            if board.slug in found:
                found[board.slug].append(entry)
    return found
