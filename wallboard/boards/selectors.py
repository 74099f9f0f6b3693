"""Reads of board configuration, detached from the ORM for the poller."""

from __future__ import annotations

from django.db.models import Prefetch

from wallboard.boards.models import Board, BoardQueue, Tenant
from wallboard.boards.state import BoardConfig, GroupConf, QueueConf, ThresholdConf

TOD_PREFIX = "cn:"  # a queue following a ContactNow policy: "cn:<account id>:<policy uid>"


def tod_schedule_id(account_id: int, policy: str) -> str:
    """The schedule id of a ContactNow policy in board state (never clashes with an 8x8 one)."""
    return f"{TOD_PREFIX}{account_id}:{policy}"


def queue_schedule_id(row: BoardQueue) -> str:
    """What a queue follows: its 8x8 schedule id, or its ContactNow policy's id, or ""."""
    if row.contactnow_account_id and row.tod_policy:
        return tod_schedule_id(row.contactnow_account_id, row.tod_policy)
    return row.schedule_id


def group_key(group_pk: int) -> str:
    """The id of a queue-group tile in board state (never clashes with an 8x8 queue id)."""
    return f"g{group_pk}"


def board_config(board: Board) -> BoardConfig:
    """Turn a board (with its related rows prefetched) into a BoardConfig."""
    return BoardConfig(
        slug=board.slug,
        title=board.title,
        theme=board.theme,
        queue_metrics=tuple(board.queue_metrics or ()),
        show_agents=board.show_agents,
        hide_logged_out=board.hide_logged_out,
        mute_when_closed=board.mute_when_closed,
        page_seconds=board.page_seconds,
        cycle_seconds=board.tenant.poll_interval,
        queues=tuple(QueueConf(q.queue_id, q.label, queue_schedule_id(q)) for q in board.queues.all()),
        groups=tuple(GroupConf(group_key(g.pk), g.name, tuple(g.queue_ids or ())) for g in board.queue_groups.all()),
        agent_groups={g.group_id: (g.name or f"Group {g.group_id}") for g in board.agent_groups.all()},
        agent_group_queues={g.group_id: tuple(g.queue_ids) for g in board.agent_groups.all() if g.queue_ids},
        thresholds=tuple(
            ThresholdConf(t.metric, t.queue_id, t.direction, t.warn, t.alert) for t in board.thresholds.all()
        ),
        sla_source=board.tenant.source,
        leaderboard=board.leaderboard,
        leaderboard_size=board.leaderboard_size,
        leaderboard_min_count=board.leaderboard_min_count,
        show_occupancy=board.show_occupancy,
        show_day_totals=board.show_day_totals,
    )


def board_configs_for_tenant(tenant: Tenant) -> list[BoardConfig]:
    """Every board of a tenant, in a handful of queries."""
    boards = (
        Board.objects.filter(tenant=tenant)
        .select_related("tenant")
        .prefetch_related(
            Prefetch("queues", queryset=BoardQueue.objects.order_by("position", "id")),
            "queue_groups",
            "agent_groups",
            "thresholds",
        )
    )
    return [board_config(board) for board in boards]


def mapped_schedule_ids(tenant: Tenant) -> set[str]:
    """Schedules that some board of the tenant maps a queue to."""
    return set(
        BoardQueue.objects.filter(board__tenant=tenant).exclude(schedule_id="").values_list("schedule_id", flat=True)
    )


def rows_with_missing_schedules(board: Board, known_schedules: dict[str, str]) -> list[BoardQueue]:
    """The board's queues mapped to a schedule 8x8 no longer lists.

    An empty catalogue means "not read yet", not "no schedules", so it finds nothing then.
    """
    if not known_schedules or not board.pk:
        return []
    rows = board.queues.exclude(schedule_id="").order_by("position", "pk")
    return [row for row in rows if row.schedule_id not in known_schedules]
