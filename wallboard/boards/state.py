"""Board state: what one board shows, computed from a tenant snapshot.

Pure functions over plain data: the poller loads the board configuration once (selectors),
passes the upstream records in, and gets back the JSON-ready state that docs/protocol.md
describes. The previous state is an input because two things must stay steady between cycles:
an agent's `status_since` (so the browser's timer does not jump) and the one-hour history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, compress, repeat
from operator import attrgetter, ge, is_
from typing import Any, Literal, TypedDict, TypeVar, cast

from wallboard.boards import agent_stats
from wallboard.boards.agent_stats import DayTotalsEntry, LeaderRow, OccupancyEntry

AGENT_STATES = {
    0: "available",
    1: "offered",
    2: "busy",
    3: "post_processing",
    4: "on_break",
    5: "offline",
    9: "logged_out",
}
HISTORY_METRICS = ("queue_size", "longest_wait_time")
# What "SLA" means on a board, per statistics source (issue 17): (the whole definition, shown as
# a tooltip; a short note shown beside SLA labels, empty when there is nothing to add).
SLA_DEFINITIONS = {
    "statistics": ("SLA as 8x8's Real Time Statistics API reports it (its SLA activity).", ""),
    "analytics": (
        "SLA as 8x8's Analytics API defines it: answered within the queue's SLA time, divided by those "
        "that entered, short abandons (callers gone within 5 s) left out.",
        "excl. short abandons",
    ),
}
HISTORY_SECONDS = 3600
# Upstream time-in-status is measured at its own cache refresh, not when we fetched it; a
# status_since that moves by less than this while the status is unchanged is the same start.
STATUS_SINCE_JITTER = 15

SUMMED = {
    "queue_size", "agent_count_busy", "agent_count_logged_out", "agent_count_on_break",
    "agent_count_post_process", "agent_count_wait_transact", "agent_count_work_offline",
    "number_in_offered", "number_in_progress", "day_queued", "day_accepted", "day_abandoned",
    "thirty_min_queued", "thirty_min_accepted", "thirty_min_abandoned", "assigned_agent_count",
    "enabled_agent_count",
}
MAXED = {"longest_wait_time", "thirty_min_longest_wait_time"}
# Averages and percentages are weighted by the volume they describe.
WEIGHTED = {
    "sla_activity": "day_queued",
    "day_sla_activity": "day_queued",
    "day_avg_wait_time": "day_queued",
    "day_avg_duration": "day_accepted",
    "thirty_min_sla_activity": "thirty_min_queued",
    "thirty_min_avg_wait_time": "thirty_min_queued",
    "thirty_min_avg_duration": "thirty_min_accepted",
}


class BoardSection(TypedDict):
    """The `board` part of the state: layout options the page needs."""

    slug: str
    title: str
    theme: str
    queue_metrics: list[str]
    agent_panel: bool
    hide_logged_out: bool
    mute_when_closed: bool
    page_seconds: int
    cycle_seconds: int
    agent_groups: dict[str, str]  # agent group id -> name; empty: every agent
    agent_group_queues: dict[str, list[str]]  # agent group id -> the queue ids it answers
    sla_definition: str  # what SLA figures mean with this tenant's source (SLA_DEFINITIONS)
    sla_note: str  # a short note for SLA labels, or ""
    agent_tiles: AgentTiles  # which agent performance tiles the board shows (agent_stats)


class AgentTiles(TypedDict):
    leaderboard: str  # off, accepted or aht
    leaderboard_size: int
    min_count: int  # accepted today an agent needs to be ranked by average handling time
    occupancy: bool
    day_totals: bool


class Schedule(TypedDict):
    """A queue's (or group's) schedule badge: evaluated (wallboard.schedules) or "missing"."""

    status: int | None
    label: str
    state: str  # open, closed, choice, missing, or redirect (a ContactNow jump:<queue>)
    name: str | None
    next_change: str | None
    next_state: str | None
    exception: str | None
    source: str  # local or api (8x8), or contactnow


# Per metric: the minute's epoch seconds (as a string) -> that minute's highest value.
History = dict[str, dict[str, Any]]


class QueueEntry(TypedDict):
    id: str
    name: str
    media_type: str | None
    kind: Literal["queue"]
    missing: bool  # configured, but 8x8 did not return the queue this cycle
    metrics: dict[str, Any]
    states: dict[str, str]  # metric -> ok, warn or alert
    schedule: Schedule | None
    history: History


class GroupEntry(TypedDict):
    id: str
    name: str
    kind: Literal["group"]
    queue_ids: list[str]
    metrics: dict[str, Any]
    states: dict[str, str]
    schedule: Schedule | None
    history: History


class AgentEntry(TypedDict):
    id: str
    name: str
    state: str  # one of AGENT_STATES' values, or unknown
    status_since: int | None  # epoch seconds
    group_id: str | None
    media_id: int | None
    reason: str | None  # the reason code beside the state (8x8's status code), where the source has one


class AnnouncementEntry(TypedDict):
    """A supervisor's message shown on the board now (wallboard.alerts.announcements)."""

    id: int
    message: str  # plain text: pages set it as text, never as HTML
    severity: str  # info, warning or critical
    starts: str  # ISO-8601 UTC
    ends: str


class CampaignBadge(TypedDict):
    """An outbound campaign the board shows, with its last known state (wallboard.campaigns)."""

    id: str  # the 8x8 campaign id
    name: str
    state: str  # running, paused, stopped, purged or unknown (8x8 has no read call: last set here)
    source: str  # none, person, automatic or uncertain (the last change's answer was lost)
    by: str  # who set it: a user name, "automatic", or ""
    at: str | None  # when (ISO-8601 UTC)


class BoardState(TypedDict):
    """What one board shows (docs/protocol.md, "Board state"): a snapshot's `data`."""

    board: BoardSection
    queues: dict[str, QueueEntry]
    groups: dict[str, GroupEntry]
    agents: dict[str, AgentEntry]
    announcements: list[AnnouncementEntry]
    campaigns: list[CampaignBadge]
    leaderboard: dict[str, LeaderRow]  # rank ("1".."N") -> row; empty when off
    occupancy: dict[str, OccupancyEntry]  # agent group id -> entry; empty when off
    day_totals: dict[str, DayTotalsEntry]  # queue id -> entry; empty when off


_Entry = TypeVar("_Entry", QueueEntry, GroupEntry)


@dataclass
class TenantSnapshot:
    """One cycle's upstream records, indexed once and shared by every board of the tenant.

    Records are the client's typed records (or anything with the same attributes).
    """

    agents: Sequence[Any]
    queues: Mapping[str, Any]
    agents_by_group: dict[str | None, list[Any]] = field(default_factory=dict)
    # Filled by prepare_agents(): entries are the same for every board, so built once; per
    # group when a board first asks (group_entries).
    entries: dict[str, AgentEntry] | None = None
    entries_by_group: dict[str | None, dict[str, AgentEntry]] = field(default_factory=dict)

    @classmethod
    def from_records(cls, agents: Sequence[Any], queues: Iterable[Any]) -> TenantSnapshot:
        by_group: dict[str | None, list[Any]] = {}
        for agent in agents:
            by_group.setdefault(agent.group_id, []).append(agent)
        return cls(list(agents), {q.queue_id: q for q in queues}, by_group)

    def prepare_agents(self, previous: Mapping[str, AgentEntry], now: int) -> dict[str, AgentEntry]:
        """Build every agent's entry once; `previous` holds last cycle's entries (any board's)."""
        self.entries = entries = agent_entries(self.agents, previous, now)
        self.entries_by_group = {}
        return entries

    def group_entries(self, group: str | None) -> dict[str, AgentEntry]:
        """One agent group's entries (after prepare_agents); boards showing every agent need none."""
        found = self.entries_by_group.get(group)
        if found is None:
            members = self.agents_by_group.get(group)
            if not members:
                return {}  # nothing kept: EMPTY, the snapshot of every cycle without data, lives on
            entries = self.entries or {}
            found = self.entries_by_group[group] = {agent.agent_id: entries[agent.agent_id] for agent in members}
        return found


EMPTY = TenantSnapshot([], {}, {})


@dataclass(frozen=True)
class QueueConf:
    queue_id: str
    label: str = ""
    schedule_id: str = ""


@dataclass(frozen=True)
class GroupConf:
    group_id: str
    name: str
    queue_ids: tuple[str, ...]


@dataclass(frozen=True)
class ThresholdConf:
    metric: str
    queue_id: str
    direction: str
    warn: float
    alert: float


@dataclass(frozen=True)
class BoardConfig:
    """Everything about a board that the state depends on, detached from the ORM."""

    slug: str
    title: str
    theme: str = "dark"
    queue_metrics: tuple[str, ...] = ("queue_size", "longest_wait_time")
    show_agents: bool = True
    hide_logged_out: bool = True
    mute_when_closed: bool = True
    page_seconds: int = 12
    cycle_seconds: int = 10
    queues: tuple[QueueConf, ...] = ()
    groups: tuple[GroupConf, ...] = ()
    agent_groups: Mapping[str, str] = field(default_factory=dict)  # id -> name; empty: all agents
    agent_group_queues: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # id -> queues it answers
    thresholds: tuple[ThresholdConf, ...] = ()
    sla_source: str = "statistics"  # the tenant's statistics source: a key of SLA_DEFINITIONS
    announcements: tuple[AnnouncementEntry, ...] = ()  # the active ones, filled by the poller
    campaigns: tuple[CampaignBadge, ...] = ()  # filled by the poller (wallboard.campaigns.hooks)
    leaderboard: str = "off"  # agent performance tiles (agent_stats): off, accepted or aht
    leaderboard_size: int = 5
    leaderboard_min_count: int = 5
    show_occupancy: bool = False
    show_day_totals: bool = False

    def schedule_ids(self) -> set[str]:
        return {q.schedule_id for q in self.queues if q.schedule_id}

    @cached_property
    def _thresholds_by_target(self) -> dict[str, dict[str, ThresholdConf]]:
        return {}

    def thresholds_for(self, target_id: str) -> dict[str, ThresholdConf]:
        """Metric to threshold for one queue or group: a specific one beats the board-wide one.

        Asked for every tile every cycle, so worked out once per target.
        """
        chosen = self._thresholds_by_target.get(target_id)
        if chosen is None:
            chosen = self._thresholds_by_target[target_id] = _thresholds_for(self.thresholds, target_id)
        return chosen


_QUEUE_ID = attrgetter("queue_id")
_GROUP_ID = attrgetter("group_id")
_QUEUE_SETTINGS = attrgetter("queue_id", "label", "schedule_id")
_QUEUE_SCHEDULE = attrgetter("queue_id", "schedule_id")


@dataclass
class _Shared:
    """What the boards of one tenant have in common within one cycle (compute_boards).

    Boards often show the same queues and agents: a floor's team boards overlap, and the
    "everything" layout shows every queue and agent on every board. A tile whose inputs are
    the same on two boards is built once and is the same object on both, and a section (a
    board's queues, groups or agents) whose entries all are is one object too. The diff and
    the serialiser remember what they did with an object for the rest of the cycle
    (wallboard.live.diff, wallboard.live.store), so shared parts are diffed and serialised
    once per cycle, not once per board.
    """

    # How many board layouts (see layout) show each queue id, how many boards each group id:
    # tiles shown once are not looked up.
    queues: Counter[str] = field(default_factory=Counter)
    groups: Counter[str] = field(default_factory=Counter)
    layouts: dict[int, tuple[Any, ...]] = field(default_factory=dict)  # id(config) -> its layout
    tokens: dict[tuple[Any, ...], int] = field(default_factory=dict)
    tiles: dict[tuple[Any, ...], tuple[Any, Any]] = field(default_factory=dict)  # key -> (before, entry)
    agents: dict[tuple[str, ...], dict[str, AgentEntry]] = field(default_factory=dict)
    sections: dict[tuple[int, int], list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def of(cls, configs: Sequence[BoardConfig]) -> _Shared:
        """For the boards of one cycle; `configs` must outlive it (layouts are kept by id)."""
        shared = cls()
        first: dict[tuple[Any, ...], BoardConfig] = {}
        for config in configs:
            layout = shared.layouts[id(config)] = (
                "queues", shared.token(config), tuple(chain.from_iterable(map(_QUEUE_SETTINGS, config.queues))))
            first.setdefault(layout, config)
        shared.queues.update(map(_QUEUE_ID, chain.from_iterable(c.queues for c in first.values())))
        shared.groups.update(map(_GROUP_ID, chain.from_iterable(c.groups for c in configs)))
        return shared

    def layout(self, config: BoardConfig) -> tuple[Any, ...]:
        """The board's queue tiles and what they depend on: equal layouts give equal sections."""
        return self.layouts[id(config)]

    def token(self, config: BoardConfig) -> int:
        """A small number for the board settings every tile depends on (part of a tile's key)."""
        return self.tokens.setdefault((config.queue_metrics, config.thresholds, config.mute_when_closed), len(self.tokens))

    def tile(self, key: tuple[Any, ...], before: Any) -> Any:
        """The tile another board built from the same inputs this cycle, or None.

        Its last state is an input (the history): the same object, or an equal one (boards
        read back from Redis, each its own copy, until they share again).
        """
        done = self.tiles.get(key)
        if done is None or not (done[0] is before or (before is not None and done[0] == before)):
            return None
        return done[1]

    def keep(self, key: tuple[Any, ...], before: Any, entry: Any) -> None:
        self.tiles.setdefault(key, (before, entry))

    def section(self, entries: dict[str, _Entry]) -> dict[str, _Entry]:
        """Another board's section holding the very same entries in the same order, else this one."""
        if not entries:
            return entries
        key = (len(entries), id(next(iter(entries.values()))))
        candidates = self.sections.setdefault(key, [])
        for candidate in candidates:
            if list(candidate) == list(entries) and all(map(is_, candidate.values(), entries.values())):
                return candidate
        candidates.append(entries)
        return entries


def board_section(config: BoardConfig) -> BoardSection:
    """The `board` part of the state: layout options the page needs."""
    return {
        "slug": config.slug,
        "title": config.title,
        "theme": config.theme,
        "queue_metrics": list(config.queue_metrics),
        "agent_panel": config.show_agents,
        "hide_logged_out": config.hide_logged_out,
        "mute_when_closed": config.mute_when_closed,
        "page_seconds": config.page_seconds,
        "cycle_seconds": config.cycle_seconds,
        "agent_groups": dict(config.agent_groups),
        "agent_group_queues": {group: list(queues) for group, queues in config.agent_group_queues.items()},
        "sla_definition": SLA_DEFINITIONS.get(config.sla_source, SLA_DEFINITIONS["statistics"])[0],
        "sla_note": SLA_DEFINITIONS.get(config.sla_source, SLA_DEFINITIONS["statistics"])[1],
        "agent_tiles": {
            "leaderboard": config.leaderboard,
            "leaderboard_size": config.leaderboard_size,
            "min_count": config.leaderboard_min_count,
            "occupancy": config.show_occupancy,
            "day_totals": config.show_day_totals,
        },
    }


def threshold_state(value: Any, threshold: ThresholdConf | None) -> str:
    """ok, warn or alert for one value."""
    if threshold is None or value is None:
        return "ok"
    if threshold.direction == "below":
        if value <= threshold.alert:
            return "alert"
        return "warn" if value <= threshold.warn else "ok"
    if value >= threshold.alert:
        return "alert"
    return "warn" if value >= threshold.warn else "ok"


def _thresholds_for(thresholds: Iterable[ThresholdConf], target_id: str) -> dict[str, ThresholdConf]:
    """A specific threshold for the queue or group beats the board-wide one."""
    chosen: dict[str, ThresholdConf] = {}
    for threshold in thresholds:
        if threshold.queue_id == "":
            chosen.setdefault(threshold.metric, threshold)
    for threshold in thresholds:
        if threshold.queue_id == target_id:
            chosen[threshold.metric] = threshold
    return chosen


def _states(config: BoardConfig, target_id: str, metrics: dict[str, Any], schedule: Schedule | None) -> dict[str, str]:
    thresholds = config.thresholds_for(target_id)
    muted = config.mute_when_closed and schedule is not None and schedule.get("state") == "closed"
    return {
        metric: "ok" if muted else threshold_state(metrics.get(metric), threshold)
        for metric, threshold in thresholds.items()
        if metric in metrics
    }


def _history(previous: History | None, values: Mapping[str, Any], now: int) -> History:
    """One point per minute for the last hour (the minute's highest value).

    Within a minute most cycles change nothing here, so the previous dicts are reused as they
    are: no copying, and the diff skips them by identity.
    """
    minute = str(now - now % 60)
    history: History = {}
    reused = 0
    for metric in HISTORY_METRICS:
        old = (previous or {}).get(metric) or {}
        value = values.get(metric)
        current = old.get(minute)
        if current is not None and (value is None or value <= current):
            history[metric] = old
            reused += 1
            continue
        if current is not None:
            # A higher value in a minute we already have: pruning happened when it began.
            points = dict(old)
            points[minute] = value
        else:
            points = _recent(old, now - HISTORY_SECONDS)
            if value is not None:
                points = dict(points) if points is old else points
                points[minute] = value
            elif points is old:
                reused += 1  # no value yet this minute and nothing too old: unchanged
        history[metric] = points
    if previous is not None and reused == len(HISTORY_METRICS) and len(previous) == reused:
        return previous  # the same object: the diff and the serialiser skip it by identity
    return history


def _recent(points: dict[str, Any], oldest: int) -> dict[str, Any]:
    """The points of minutes after `oldest`: `points` itself when none is older.

    Minutes are epoch seconds as strings. Of one length (every minute from 2001 to 2286) they
    sort as strings as they do as numbers, so they are compared in C; the first cycle of every
    minute prunes every sparkline of every tile, 36,000 points for 300 queues.
    """
    cutoff = str(oldest)
    if set(map(len, points)) <= {len(cutoff)}:
        stale = list(compress(points, map(ge, repeat(cutoff), points)))
    else:
        stale = [minute for minute in points if int(minute) <= oldest]
    if not stale:
        return points
    kept = dict(points)
    for minute in stale:  # one, usually: the minute an hour ago
        del kept[minute]
    return kept


def aggregate(records: Iterable[Any], metric: str) -> Any:
    """Combine one metric over several queues: sum, max or volume-weighted mean."""
    records = list(records)
    values = [getattr(r, metric, None) for r in records]
    present = [v for v in values if v is not None]
    if not present:
        return None
    if metric in MAXED:
        return max(present)
    if metric in WEIGHTED:
        weight_name = WEIGHTED[metric]
        pairs = [(v, getattr(r, weight_name, None) or 0) for r, v in zip(records, values, strict=True) if v is not None]
        total = sum(w for _, w in pairs)
        if total > 0:
            return round(sum(v * w for v, w in pairs) / total, 1)
        return round(sum(present) / len(present), 1)
    return sum(present)


def missing_schedule() -> Schedule:
    """The `schedule` of a queue mapped to a schedule id that 8x8 no longer lists.

    Same keys as an evaluated schedule, so the page needs no special case to read it; nothing
    about open or closed is known, so nothing is muted either.
    """
    return {
        "status": None,
        "label": "Schedule missing",
        "state": "missing",
        "name": None,
        "next_change": None,
        "next_state": None,
        "exception": None,
        "source": "local",
    }


def known_schedule_ids(schedules: Mapping[str, Schedule], known: Collection[str] | None) -> Collection[str] | None:
    """The schedule ids 8x8 listed at its last refresh, or None while that is not known.

    A caller that read the list passes it as `known`. Otherwise `schedules` says what it can:
    the poller evaluates every schedule id the tenant's boards map and leaves out the ones it
    has no definition for, so once any was evaluated the list had been fetched and the ones
    left out are not on it. With none evaluated (never fetched, or every mapped schedule gone)
    nothing is known, and "unknown" must never be shown as "missing".
    """
    if known is not None:
        return known
    return set(schedules) if schedules else None


def queue_schedule(schedule_id: str, schedules: Mapping[str, Schedule], known: Collection[str] | None) -> Schedule | None:
    """What a queue's badge shows: its evaluated schedule, "missing", or None (no schedule)."""
    if not schedule_id:
        return None
    evaluated = schedules.get(schedule_id)
    if evaluated is not None:
        return evaluated
    if known is None or schedule_id in known:
        # Not fetched yet, or listed but not evaluated this cycle: unknown, not missing.
        return None
    return missing_schedule()


def _group_schedule(schedules: list[Schedule | None]) -> Schedule | None:
    """A group is open while any member is open.

    A member whose schedule is missing might be open for all we know: unless another member
    is open, the group says "missing" rather than "closed" (which would mute its alerts).
    """
    known = [s for s in schedules if s]
    if not known:
        return None
    for state in ("open", "choice", "missing"):
        members = [s for s in known if s["state"] == state]
        if members:
            return {**members[0], "name": None, "exception": None, "next_change": _earliest(known)}
    return {**known[0], "name": None, "next_change": _earliest(known)}


def _earliest(schedules: list[Schedule]) -> str | None:
    changes = [change for s in schedules if (change := s.get("next_change"))]
    return min(changes) if changes else None


def _queue_entries(
    config: BoardConfig,
    queues: Mapping[str, Any],
    schedules: Mapping[str, Schedule],
    known: Collection[str] | None,
    previous: Mapping[str, QueueEntry],
    now: int,
    shared: _Shared | None = None,
) -> dict[str, QueueEntry]:
    if shared is None:
        return {qc.queue_id: _queue_entry(config, qc, queues.get(qc.queue_id), schedules, known,
                                          previous.get(qc.queue_id), now) for qc in config.queues}
    token = shared.token(config)
    # A board with the same tiles as another, which had the same ones last cycle too (the
    # "everything" layout): its section is the other's, without a look at each tile.
    layout = shared.layout(config)
    done = shared.tiles.get(layout)
    if done is not None and done[0] is previous:
        return cast(dict[str, QueueEntry], done[1])
    entries: dict[str, QueueEntry] = {}
    for qc in config.queues:
        queue_id = qc.queue_id
        before = previous.get(queue_id)
        if shared.queues[queue_id] < 2:
            entries[queue_id] = _queue_entry(config, qc, queues.get(queue_id), schedules, known, before, now)
            continue
        key = ("q", token, queue_id, qc.label, qc.schedule_id)
        entry = shared.tile(key, before)
        if entry is None:
            entry = _queue_entry(config, qc, queues.get(queue_id), schedules, known, before, now)
            shared.keep(key, before, entry)
        entries[queue_id] = entry
    if done is not None and entries == done[1]:
        entries = done[1]  # boards read back from Redis, each its own copy: one object again
    else:
        entries = shared.section(entries)
    shared.keep(layout, previous, entries)
    return entries


def _queue_entry(
    config: BoardConfig,
    qc: QueueConf,
    record: Any,
    schedules: Mapping[str, Schedule],
    known: Collection[str] | None,
    before: QueueEntry | None,
    now: int,
) -> QueueEntry:
    """One queue's tile; last cycle's object when nothing in it changed."""
    metrics = {m: getattr(record, m, None) for m in config.queue_metrics}
    history_values = {m: getattr(record, m, None) for m in HISTORY_METRICS}
    schedule = queue_schedule(qc.schedule_id, schedules, known)
    entry: QueueEntry = {
        "id": qc.queue_id,
        "name": qc.label or getattr(record, "queue_name", None) or qc.queue_id,
        "media_type": getattr(record, "media_type", None),
        "kind": "queue",
        "missing": record is None,
        "metrics": metrics,
        "states": _states(config, qc.queue_id, metrics, schedule),
        "schedule": schedule,
        "history": _history(before.get("history") if before is not None else None, history_values, now),
    }
    return _same_or_new(before, entry)


def _same_or_new(before: _Entry | None, entry: _Entry) -> _Entry:
    """Keep last cycle's object when nothing changed: the diff and the serialiser skip it."""
    return before if before == entry else entry


def _group_entries(
    config: BoardConfig,
    queues: Mapping[str, Any],
    schedules: Mapping[str, Schedule],
    known: Collection[str] | None,
    previous: Mapping[str, GroupEntry],
    now: int,
    shared: _Shared | None = None,
) -> dict[str, GroupEntry]:
    if not config.groups:
        return {}
    # Members' schedules come from this board's queue settings: part of a shared tile's key.
    schedule_id_of = dict(map(_QUEUE_SCHEDULE, config.queues))
    token = shared.token(config) if shared is not None else 0
    entries: dict[str, GroupEntry] = {}
    for gc in config.groups:
        before = previous.get(gc.group_id)
        member_schedules = tuple(schedule_id_of.get(q, "") for q in gc.queue_ids)
        key: tuple[Any, ...] | None = None
        if shared is not None and shared.groups[gc.group_id] > 1:
            key = ("g", token, gc.group_id, gc.name, gc.queue_ids, member_schedules)
            entry = shared.tile(key, before)
            if entry is not None:
                entries[gc.group_id] = entry
                continue
        entry = _group_entry(config, gc, queues, member_schedules, schedules, known, before, now)
        if key is not None and shared is not None:
            shared.keep(key, before, entry)
        entries[gc.group_id] = entry
    return shared.section(entries) if shared is not None else entries


def _group_entry(
    config: BoardConfig,
    gc: GroupConf,
    queues: Mapping[str, Any],
    member_schedules: tuple[str, ...],
    schedules: Mapping[str, Schedule],
    known: Collection[str] | None,
    before: GroupEntry | None,
    now: int,
) -> GroupEntry:
    """One queue group's tile; last cycle's object when nothing in it changed."""
    members = [queues[q] for q in gc.queue_ids if q in queues]
    combined = {m: aggregate(members, m) for m in set(config.queue_metrics) | set(HISTORY_METRICS)}
    metrics = {m: combined[m] for m in config.queue_metrics}
    schedule = _group_schedule([queue_schedule(s, schedules, known) if s else None for s in member_schedules])
    entry: GroupEntry = {
        "id": gc.group_id,
        "name": gc.name,
        "kind": "group",
        "queue_ids": list(gc.queue_ids),
        "metrics": metrics,
        "states": _states(config, gc.group_id, metrics, schedule),
        "schedule": schedule,
        "history": _history(before.get("history") if before is not None else None, combined, now),
    }
    return _same_or_new(before, entry)


def agent_entries(agents: Iterable[Any], previous: Mapping[str, AgentEntry], now: int) -> dict[str, AgentEntry]:
    """Each agent's entry; one unchanged since last cycle is the very same object."""
    entries: dict[str, AgentEntry] = {}
    for agent in agents:
        agent_id = agent.agent_id
        state = AGENT_STATES.get(agent.agent_status, "unknown")
        in_status = agent.time_in_status
        since = now - in_status if in_status is not None else None
        group_id = agent.group_id
        name = agent.agent_name or agent_id
        reason = getattr(agent, "status_code_item_short_code", None) or None
        before = previous.get(agent_id)
        if (
            before is not None
            and before["state"] == state
            and since is not None
            and before["status_since"] is not None
            and abs(before["status_since"] - since) < STATUS_SINCE_JITTER
            and before["name"] == name
            and before["group_id"] == group_id
            and before["media_id"] == agent.agent_media_id
            and before.get("reason") == reason
        ):
            # Unchanged: keeping the same entry also makes the diff skip it by identity.
            entries[agent_id] = before
            continue
        entries[agent_id] = {
            "id": agent_id,
            "name": name,
            "state": state,
            "status_since": since,
            "group_id": group_id,
            "media_id": agent.agent_media_id,
            "reason": reason,
        }
    return entries


def _agent_entries(
    config: BoardConfig,
    snapshot: TenantSnapshot,
    previous: Mapping[str, AgentEntry],
    now: int,
    shared: _Shared | None = None,
) -> dict[str, AgentEntry]:
    entries = snapshot.entries
    if entries is None:
        entries = snapshot.prepare_agents(previous, now)
    groups = tuple(config.agent_groups)
    chosen = shared.agents.get(groups) if shared is not None else None
    if chosen is not None:
        return chosen  # boards showing the same agent groups share one section
    if not groups:
        chosen = dict(entries)
    else:
        chosen = {}
        for group in groups:
            chosen.update(snapshot.group_entries(group))
    if shared is not None:
        shared.agents[groups] = chosen
    return chosen


def compute_board_state(
    config: BoardConfig,
    snapshot: TenantSnapshot,
    schedules: Mapping[str, Schedule],
    previous: BoardState | None,
    now: int,
    known_schedules: Collection[str] | None = None,
) -> BoardState:
    """The whole board state for one cycle.

    `schedules` maps schedule id to its evaluated state, `now` is the fetch time in epoch
    seconds. `known_schedules` holds the ids 8x8 listed at the last schedule refresh (None:
    not known, see known_schedule_ids); a mapped id not among them shows as missing.
    """
    return _board_state(config, snapshot, schedules, previous, now, known_schedules, None)


def _board_state(
    config: BoardConfig,
    snapshot: TenantSnapshot,
    schedules: Mapping[str, Schedule],
    previous: BoardState | None,
    now: int,
    known_schedules: Collection[str] | None,
    shared: _Shared | None,
) -> BoardState:
    before = previous or None
    known = known_schedule_ids(schedules, known_schedules)
    queues = _queue_entries(config, snapshot.queues, schedules, known, before and before.get("queues") or {}, now, shared)
    groups = _group_entries(config, snapshot.queues, schedules, known, before and before.get("groups") or {}, now, shared)
    agents = _agent_entries(config, snapshot, before and before.get("agents") or {}, now, shared) if config.show_agents else {}
    tiles = _agent_tiles(config, snapshot, queues, before)
    return {
        "board": board_section(config),
        "queues": queues,
        "groups": groups,
        "agents": agents,
        "announcements": list(config.announcements),
        "campaigns": list(config.campaigns),
        "leaderboard": tiles["leaderboard"],
        "occupancy": tiles["occupancy"],
        "day_totals": tiles["day_totals"],
    }


def _agent_tiles(
    config: BoardConfig, snapshot: TenantSnapshot, queues: Mapping[str, QueueEntry], before: BoardState | None
) -> Mapping[str, Any]:
    """The leaderboard, occupancy and day totals parts of the state (empty when the board shows none).

    Thresholds apply as on queue metrics: a queue's own beats the board-wide one, and a closed
    queue's day totals are muted like its tile when the board mutes alerts.
    """
    if config.leaderboard == "off" and not config.show_occupancy and not config.show_day_totals:
        return {"leaderboard": {}, "occupancy": {}, "day_totals": {}}  # the usual board: no work per cycle
    old: Mapping[str, Any] = before or {}

    def states_for(target: str, figures: Mapping[str, Any]) -> dict[str, str]:
        thresholds = config.thresholds_for(target)
        return {m: threshold_state(v, thresholds[m]) for m, v in figures.items() if m in thresholds}

    def queue_states(queue_id: str, figures: Mapping[str, Any]) -> dict[str, str]:
        schedule = queues[queue_id]["schedule"] if queue_id in queues else None
        if config.mute_when_closed and schedule is not None and schedule.get("state") == "closed":
            return {m: "ok" for m in states_for(queue_id, figures)}
        return states_for(queue_id, figures)

    by_group: Mapping[str | None, list[Any]]
    if config.agent_groups:
        by_group = {g: snapshot.agents_by_group.get(g, []) for g in config.agent_groups}
        agents: list[Any] = [a for g in config.agent_groups for a in by_group[g]]
    else:
        by_group, agents = snapshot.agents_by_group, list(snapshot.agents)
    board = agent_stats.leaderboard(
        agents, config.leaderboard, config.leaderboard_size, config.leaderboard_min_count, states_for
    )
    occupancy = agent_stats.occupancy(by_group, config.agent_groups, states_for) if config.show_occupancy else {}
    totals = agent_stats.day_totals(
        ((qc.queue_id, qc.label or getattr(snapshot.queues.get(qc.queue_id), "queue_name", None) or qc.queue_id,
          snapshot.queues.get(qc.queue_id)) for qc in config.queues),
        queue_states,
    ) if config.show_day_totals else {}
    return {
        "leaderboard": _kept(old.get("leaderboard"), board),
        "occupancy": _kept(old.get("occupancy"), occupancy),
        "day_totals": _kept(old.get("day_totals"), totals),
    }


def _kept(before: Mapping[str, Any] | None, entries: dict[str, Any]) -> dict[str, Any]:
    """Last cycle's entry objects where unchanged, so the diff skips them by identity."""
    if not before:
        return entries
    return {key: before[key] if before.get(key) == entry else entry for key, entry in entries.items()}


def compute_boards(
    configs: Iterable[BoardConfig],
    snapshot: TenantSnapshot,
    schedules: Mapping[str, Schedule],
    previous: Mapping[str, BoardState | None],
    now: int,
    known_schedules: Collection[str] | None = None,
) -> dict[str, BoardState]:
    """Every board of a tenant for one cycle; `previous` maps slug to last state (or None).

    What boards have in common is built once and shared (see _Shared): states of one call
    may hold the same objects, so nothing may change a state in place.
    """
    configs = list(configs)
    last_agents: dict[str, AgentEntry] = {}
    merged: set[int] = set()
    for state in previous.values():
        agents = state.get("agents") if state else None
        if agents and id(agents) not in merged:
            merged.add(id(agents))  # boards that share a section last cycle: merged once
            last_agents.update(agents)
    snapshot.prepare_agents(last_agents, now)
    shared = _Shared.of(configs)
    return {
        c.slug: _board_state(c, snapshot, schedules, previous.get(c.slug), now, known_schedules, shared)
        for c in configs
    }
