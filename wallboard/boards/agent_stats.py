"""Agent performance tiles (issue 20): a leaderboard, occupancy per agent group, day totals per queue.

Pure functions over the records the poller already fetched each cycle (agents' day figures
and the queues' day counters): no extra 8x8 call. Every figure is a whole number, so a tile
changes only when what it shows changes and the patches stay small.

Occupancy is the share of the time agents could take work that they spent on it:

    occupancy % = (handling time + wrap-up time) / (logged-in time - break time) * 100

summed over the group's agents (8x8's day-processing-time, day-wrap-up-time, day-login-time and
day-break-time, all from the start of the day). An agent missing a figure counts as 0 for it;
with no time left after breaks the group's occupancy is null (nothing to divide by).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypedDict

LEADERBOARD_MODES = ("off", "accepted", "aht")
# Threshold metrics of the tiles (besides the queue metrics, which the day totals reuse).
OCCUPANCY = "occupancy"
AGENT_ACCEPTED = "agent_accepted"  # a leaderboard row's accepted today
AGENT_AHT = "agent_aht"  # a leaderboard row's average handling time (s)
# The queue counters a day-totals tile shows (names of the normalised queue records).
DAY_TOTALS = ("day_queued", "day_accepted", "day_abandoned", "day_avg_wait_time", "day_avg_duration", "day_sla_activity")

# target id ("" for the board-wide threshold) and the figures -> metric -> ok, warn or alert.
StatesFor = Callable[[str, Mapping[str, Any]], dict[str, str]]


class LeaderRow(TypedDict):
    id: str
    name: str
    group_id: str | None
    accepted: int | None
    aht: int | None  # seconds: 8x8's average handling time today
    states: dict[str, str]  # agent_accepted / agent_aht -> ok, warn or alert


class OccupancyEntry(TypedDict):
    id: str  # the agent group id
    name: str
    occupancy: int | None  # whole percent; None when no time after breaks
    agents: int  # agents of the group with logged-in time today
    states: dict[str, str]


class DayTotalsEntry(TypedDict):
    id: str  # the queue id
    name: str
    metrics: dict[str, Any]  # DAY_TOTALS -> value
    states: dict[str, str]


def _name(agent: Any) -> str:
    return str(getattr(agent, "agent_name", None) or agent.agent_id)


def _order(agent: Any) -> tuple[str, str]:
    """Ties go by name (case-insensitive), then id: the same order every cycle."""
    return (_name(agent).casefold(), str(agent.agent_id))


def leaderboard(
    agents: Iterable[Any], mode: str, size: int, min_count: int, states_for: StatesFor
) -> dict[str, LeaderRow]:
    """The top `size` agents, keyed by rank ("1", "2", ...): a changed figure is one small patch.

    By accepted: most accepted today first; agents with none are left out. By average handling
    time: shortest first, only agents with at least `min_count` accepted today, so one short
    call does not win.
    """
    if mode == "accepted":
        ranked = sorted(
            (a for a in agents if (a.day_accepted_count or 0) > 0),
            key=lambda a: (-a.day_accepted_count, *_order(a)),
        )
    elif mode == "aht":
        ranked = sorted(
            (
                a for a in agents
                if (a.day_accepted_count or 0) >= max(min_count, 1) and a.day_avg_processing_time is not None
            ),
            key=lambda a: (a.day_avg_processing_time, *_order(a)),
        )
    else:
        return {}
    rows: dict[str, LeaderRow] = {}
    for rank, agent in enumerate(ranked[: max(size, 0)], start=1):
        figures = {AGENT_ACCEPTED: agent.day_accepted_count, AGENT_AHT: agent.day_avg_processing_time}
        rows[str(rank)] = {
            "id": agent.agent_id,
            "name": _name(agent),
            "group_id": agent.group_id,
            "accepted": agent.day_accepted_count,
            "aht": agent.day_avg_processing_time,
            "states": states_for("", figures),
        }
    return rows


def occupancy_percent(agents: Iterable[Any]) -> tuple[int | None, int]:
    """(occupancy in whole percent or None, agents counted): the formula in the module docstring."""
    worked = available = counted = 0
    for agent in agents:
        login = agent.day_login_time or 0
        if login <= 0:
            continue
        counted += 1
        worked += (agent.day_processing_time or 0) + (agent.day_wrap_up_time or 0)
        available += max(login - (agent.day_break_time or 0), 0)
    if available <= 0:
        return None, counted
    return round(worked * 100 / available), counted


def occupancy(
    agents_by_group: Mapping[str | None, list[Any]], groups: Mapping[str, str], states_for: StatesFor
) -> dict[str, OccupancyEntry]:
    """Occupancy per agent group: the board's groups (id -> name), or every group when it has none."""
    chosen = dict(groups) or {g: f"Group {g}" for g in sorted(k for k in agents_by_group if k is not None)}
    entries: dict[str, OccupancyEntry] = {}
    for group_id, name in chosen.items():
        percent, counted = occupancy_percent(agents_by_group.get(group_id, ()))
        entries[group_id] = {
            "id": group_id,
            "name": name,
            "occupancy": percent,
            "agents": counted,
            "states": states_for(group_id, {OCCUPANCY: percent}),
        }
    return entries


def day_totals(
    queues: Iterable[tuple[str, str, Any]], states_for: StatesFor
) -> dict[str, DayTotalsEntry]:
    """Day totals per queue; `queues` gives (queue id, name shown, record or None)."""
    entries: dict[str, DayTotalsEntry] = {}
    for queue_id, name, record in queues:
        metrics = {m: getattr(record, m, None) for m in DAY_TOTALS}
        entries[queue_id] = {"id": queue_id, "name": name, "metrics": metrics, "states": states_for(queue_id, metrics)}
    return entries
