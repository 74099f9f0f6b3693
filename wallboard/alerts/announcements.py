"""Announcements: who may make them, which are on now, and getting them onto the screens.

An announcement is part of the board state (`announcements`), so a screen that reconnects
gets it in its snapshot. The poller adds the active ones to each board's configuration every
cycle (a scheduled start or end shows within a cycle); creating or ending one republishes
the boards' stored states at once with the new list, through wallboard.live.republish, under
the same tenant lock as the poll so that the two never hand out the same seq.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from wallboard.alerts.models import Announcement, AnnouncementAudit
from wallboard.boards.access import boards_for_user, user_can_view
from wallboard.boards.models import Board
from wallboard.boards.state import AnnouncementEntry, BoardConfig, BoardState
from wallboard.live.republish import republish_states, under_tenant_lock

log = logging.getLogger(__name__)

SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
ANNOUNCE_PERMISSION = "alerts.add_announcement"


# --- Who may announce -----------------------------------------------------------------------


def is_announcer_admin(user: Any) -> bool:
    """Administrators may announce on every board: superusers, and staff with the add permission."""
    if not getattr(user, "is_active", False):
        return False
    return bool(user.is_superuser or (user.is_staff and user.has_perm(ANNOUNCE_PERMISSION)))


def boards_user_may_announce(user: Any) -> QuerySet[Board]:
    """Boards the user may put announcements on: any for administrators, else the granted ones they can see."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return Board.objects.none()
    if is_announcer_admin(user):
        return Board.objects.all()
    groups = user.groups.all()
    granted = Board.objects.filter(Q(announcement_grants__users=user) | Q(announcement_grants__groups__in=groups))
    return boards_for_user(user).filter(pk__in=granted.values("pk"))


def may_announce(user: Any, board: Board) -> bool:
    return user_can_view(user, board) and boards_user_may_announce(user).filter(pk=board.pk).exists()


# --- What is on now ---------------------------------------------------------------------------


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def entry(announcement: Announcement) -> AnnouncementEntry:
    return {
        "id": announcement.pk,
        "message": announcement.message,
        "severity": announcement.severity,
        "starts": _iso(announcement.starts),
        "ends": _iso(announcement.ends),
    }


def active(at: datetime | None = None) -> QuerySet[Announcement]:
    at = at or timezone.now()
    return Announcement.objects.filter(ended_early__isnull=True, starts__lte=at, ends__gt=at)


def active_by_slug(slugs: Iterable[str], at: datetime | None = None) -> dict[str, list[AnnouncementEntry]]:
    """Each board's active announcements, most severe first, then oldest first."""
    wanted = list(slugs)
    found: dict[str, list[tuple[tuple[int, datetime, int], AnnouncementEntry]]] = {slug: [] for slug in wanted}
    rows = active(at).filter(boards__slug__in=wanted).values_list(
        "boards__slug", "pk", "message", "severity", "starts", "ends"
    )
    for slug, pk, message, severity, starts, ends in rows:
        item: AnnouncementEntry = {"id": pk, "message": message, "severity": severity,
                                   "starts": _iso(starts), "ends": _iso(ends)}
        found[slug].append(((SEVERITY_ORDER.get(severity, 9), starts, pk), item))
    return {slug: [item for _, item in sorted(items, key=lambda pair: pair[0])] for slug, items in found.items()}


def with_announcements(configs: Sequence[BoardConfig], at: datetime | None = None) -> list[BoardConfig]:
    """The poller's board configurations with each board's active announcements (one query)."""
    if not configs:
        return list(configs)
    by_slug = active_by_slug([c.slug for c in configs], at)
    return [dataclasses.replace(c, announcements=tuple(by_slug.get(c.slug, ()))) for c in configs]


# --- Making and ending them -----------------------------------------------------------------


def _audit(announcement: Announcement, action: str, user: Any) -> None:
    AnnouncementAudit.objects.create(
        announcement=announcement, action=action, user=user if getattr(user, "pk", None) else None,
        boards=", ".join(announcement.boards.order_by("slug").values_list("slug", flat=True))[:500],
        message=announcement.message,
    )
    log.info("announcement %s (id %s) on %s by %r", dict(AnnouncementAudit.ACTIONS)[action].lower(),
             announcement.pk, announcement.boards.count(), getattr(user, "username", None) or "unknown")


def create(
    user: Any, boards: Iterable[Board], message: str, severity: str, starts: datetime, ends: datetime
) -> Announcement:
    """Save an announcement, audit it, and show it on its boards now if it has started."""
    boards = list(boards)
    with transaction.atomic():
        announcement = Announcement.objects.create(
            message=message, severity=severity, starts=starts, ends=ends,
            author=user if getattr(user, "pk", None) else None,
        )
        announcement.boards.set(boards)
        _audit(announcement, "create", user)
        transaction.on_commit(lambda: republish_boards(boards))
    return announcement


def saved(announcement: Announcement, user: Any, created: bool) -> None:
    """After admin saved one (boards included): audit it and republish its boards."""
    _audit(announcement, "create" if created else "change", user)
    boards = list(announcement.boards.all())
    transaction.on_commit(lambda: republish_boards(boards))


def end_now(announcement: Announcement, user: Any) -> bool:
    """End an announcement early; False when it had already ended."""
    now = timezone.now()
    with transaction.atomic():
        ended = Announcement.objects.filter(pk=announcement.pk, ended_early__isnull=True, ends__gt=now).update(
            ended_early=now
        )
        if not ended:
            return False
        announcement.ended_early = now
        _audit(announcement, "end", user)
        boards = list(announcement.boards.all())
        transaction.on_commit(lambda: republish_boards(boards))
    return True


# --- Onto the screens -------------------------------------------------------------------------


def republish_boards(boards: Iterable[Board]) -> list[str]:
    """Republish each board's stored state with its current announcements; return the slugs sent."""
    by_tenant: dict[int, list[str]] = {}
    for board in boards:
        by_tenant.setdefault(board.tenant_id, []).append(board.slug)
    sent: list[str] = []
    for tenant_id, slugs in by_tenant.items():
        try:
            sent += under_tenant_lock(tenant_id, partial(republish_locked, slugs), f"announcements for {slugs}")
        except Exception as exc:  # Redis or the channel layer down: the next poll shows it
            log.warning("announcements for %s: could not republish now (%s); the next poll shows them", slugs, exc)
    return sent


def republish_locked(slugs: Sequence[str], at: datetime | None = None, only_changed: bool = False) -> list[str]:
    """The same, for a caller that holds the tenant lock (the poller itself)."""
    current = active_by_slug(slugs, at)

    def update(slug: str, previous: BoardState) -> BoardState | None:
        if only_changed and previous.get("announcements") == current[slug]:
            return None
        return {**previous, "announcements": current[slug]}

    return republish_states(slugs, update)
