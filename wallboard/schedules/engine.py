"""Evaluate a schedule at an instant: status, label and the next change, computed locally.

Boards need every queue's open/closed state every cycle; asking 8x8 each time would cost
one request per schedule per cycle, so the state is computed here from the definition.
The rules are documented in docs/schedules.md. Pure: no Django, no I/O.

The status at an instant is what the rules say for the local wall-clock reading at that
instant (8x8: "calculated at current time in time zone of specific schedule"), so a
fall-back's repeated hour is evaluated twice, as the clock shows it.

Speed: a schedule is compiled once (cached by content) into a timeline of a few weeks of
UTC change points around the instant asked about; an evaluation is then a bisect.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from wallboard.schedules.codes import CLOSED, parse_status, status_label, status_state
from wallboard.schedules.reconcile import ReconciledState, reconcile
from wallboard.schedules.spec import Rule, Rules, ScheduleKey, compile_rules, schedule_key
from wallboard.schedules.zones import offset_periods, resolve_zone, zone_name

Segment = tuple[int, int, str | None]  # (start, status, exception label), seconds
Span = tuple[int, int, tuple[int, int], int, str | None]  # (start, end, rank, status, exception)
DayMark = tuple[int, str | None]  # (midnight, exception label of that day)

__all__ = [
    "HORIZON_SECONDS",
    "ReconciledState",
    "ScheduleState",
    "evaluate",
    "local_status_dict",
    "parse_status",
    "reconcile",
    "resolve_zone",
    "status_label",
]

HORIZON_DAYS = 8
HORIZON_SECONDS = HORIZON_DAYS * 86400  # how far next_change (and since) look
_WINDOW_DAYS = HORIZON_DAYS + 3  # timeline built this many local days either side
_EPOCH_DAY = 719163  # date(1970, 1, 1).toordinal()
_CACHE_SIZE = 2048


@dataclass(frozen=True)
class ScheduleState:
    """A schedule's state at one instant."""

    status: int
    label: str
    state: str
    next_change: datetime | None
    next_status: int | None
    exception: str | None
    zone: str
    zone_fallback: bool
    # The latest instant at most 8 days back where the status changed to the current one;
    # reconcile() uses it to tell a stale API answer from a real disagreement.
    since: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the board state and health surfaces."""
        return {
            "status": self.status,
            "label": self.label,
            "state": self.state,
            "next_change": self.next_change.isoformat() if self.next_change else None,
            "next_status": self.next_status,
            "exception": self.exception,
            "zone": self.zone,
            "zone_fallback": self.zone_fallback,
        }


def evaluate(schedule: object, at: datetime, fallback_tz: str) -> ScheduleState:
    """The schedule's state at the aware instant at; fallback_tz is the tenant's zone.

    schedule is a wallboard.vcc.records.Schedule or a dict in the docs/api-shapes.md shape.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("evaluate() needs a timezone-aware instant")
    return compiled(schedule, fallback_tz).state_at(at.timestamp())


def local_status_dict(schedule: object, at: datetime, fallback_tz: str) -> dict[str, Any]:
    """The JSON `manage.py vcc status ID --local` prints: status, label, next_change."""
    state = evaluate(schedule, at, fallback_tz)
    return {
        "status": state.status,
        "label": state.label,
        "next_change": state.next_change.isoformat() if state.next_change else None,
    }


# Compiled schedules -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Timeline:
    """Segments of constant (status, exception) over a span of UTC seconds."""

    valid_from: float  # the segments are exact from here ...
    valid_until: float  # ... to here
    starts: tuple[int, ...]
    statuses: tuple[int, ...]
    exceptions: tuple[str | None, ...]
    next_diff: tuple[int, ...]  # index of the next segment with another status (len = none)
    run_start: tuple[int, ...]  # index of the first segment of this status run

    def covers(self, ts: float) -> bool:
        """True if both horizons around ts lie inside the exact span."""
        return self.valid_from < ts - HORIZON_SECONDS and ts + HORIZON_SECONDS < self.valid_until


class CompiledSchedule:
    """A schedule's rules in one zone, with the timeline last built for it."""

    def __init__(self, rules: Rules, zone: tzinfo, zone_fallback: bool) -> None:
        self.rules = rules
        self.zone = zone
        self.zone_name = zone_name(zone)
        self.zone_fallback = zone_fallback
        self._timeline: _Timeline | None = None

    def state_at(self, ts: float) -> ScheduleState:
        """The state at epoch seconds ts."""
        timeline = self._timeline_for(ts)
        i = bisect_right(timeline.starts, ts) - 1
        status = timeline.statuses[i]
        j = timeline.next_diff[i]
        next_change = next_status = None
        if j < len(timeline.starts) and timeline.starts[j] <= ts + HORIZON_SECONDS:
            next_change, next_status = _utc(timeline.starts[j]), timeline.statuses[j]
        r = timeline.run_start[i]
        since = _utc(timeline.starts[r]) if r > 0 and timeline.starts[r] > ts - HORIZON_SECONDS else None
        return ScheduleState(
            status=status,
            label=status_label(status),
            state=status_state(status),
            next_change=next_change,
            next_status=next_status,
            exception=timeline.exceptions[i],
            zone=self.zone_name,
            zone_fallback=self.zone_fallback,
            since=since,
        )

    def _timeline_for(self, ts: float) -> _Timeline:
        """The cached timeline if it covers ts, else a new one centred on ts's local date."""
        timeline = self._timeline
        if timeline is None or not timeline.covers(ts):
            centre = datetime.fromtimestamp(ts, self.zone).toordinal()
            timeline = self._timeline = _build(self.rules, self.zone, centre)
        return timeline


def _build(rules: Rules, zone: tzinfo, centre: int) -> _Timeline:
    """The timeline of the local days around centre, as UTC segments.

    Two steps, so that daylight saving time is in one place only: the rules are swept into
    segments of wall-clock time (where no clock ever jumps), then every stretch of constant
    UTC offset reads its part of that wall-clock timeline. A fall-back's repeated hour reads
    the same wall-clock stretch twice, a spring-forward gap skips one (docs/schedules.md).
    """
    first, last = centre - _WINDOW_DAYS, centre + _WINDOW_DAYS
    wall = _wall_segments(rules, first, last)
    # Exact only where the wall clock reads a day after first (first's own day lacks the
    # spill-over of the day before it); a day either side covers any UTC offset.
    valid_from = _wall_seconds(first + 2, 0)
    valid_until = _wall_seconds(last, 0)
    periods = offset_periods(zone, valid_from, valid_until)
    return _timeline(_read_wall(wall, periods, valid_until), valid_from, valid_until)


def _wall_segments(rules: Rules, first: int, last: int) -> list[Segment]:
    """(start, status, exception) segments in wall-clock seconds for the local days first..last.

    Winner where intervals overlap: the latest local start, then the later definition.
    Outside every interval: CLOSED, with the exception label of the day the clock reads.
    """
    intervals: list[Span] = []  # wall-clock seconds
    day_marks: list[DayMark] = []
    for day in range(first, last + 1):
        day_rules, day_label = _rules_for(rules, day)
        day_marks.append((_wall_seconds(day, 0), day_label))
        for rule in day_rules:
            start, end = _wall_seconds(day, rule.start), _wall_seconds(day, rule.end)
            intervals.append((start, end, (start, rule.order), rule.status, rule.exception))
    points = sorted({mark for mark, _ in day_marks} | {i[0] for i in intervals} | {i[1] for i in intervals})
    return _sweep(points, sorted(intervals), day_marks)


def _wall_seconds(day: int, minute: int) -> int:
    """A wall-clock reading (date ordinal, minutes) on the same scale as UTC epoch seconds."""
    return (day - _EPOCH_DAY) * 86400 + minute * 60


def _read_wall(wall: list[Segment], periods: tuple[tuple[int, int], ...], until: int) -> list[Segment]:
    """UTC (start, status, exception) segments: each offset period reads the wall segments it spans."""
    wall_starts = [segment[0] for segment in wall]
    segments: list[Segment] = []
    for k, (period_start, offset) in enumerate(periods):
        period_end = periods[k + 1][0] if k + 1 < len(periods) else until
        current = bisect_right(wall_starts, period_start + offset) - 1
        _append(segments, period_start, wall[current][1:])
        for i in range(current + 1, len(wall)):
            at = wall_starts[i] - offset
            if at >= period_end:
                break
            _append(segments, at, wall[i][1:])
    return segments


def _append(segments: list[Segment], start: int, value: tuple[int, str | None]) -> None:
    """Add a segment unless it only repeats the one before it."""
    if not segments or segments[-1][1:] != value:
        segments.append((start, *value))


def _rules_for(rules: Rules, day: int) -> tuple[tuple[Rule, ...], str | None]:
    """The rules that start on a local date: its exception's if any, else its week-day's."""
    exception = rules.exceptions.get(day)
    if exception is not None:
        label, day_rules = exception
        return day_rules, label
    return rules.week[day % 7], None  # ordinal % 7: 0 = Sunday


def _sweep(points: list[int], intervals: list[Span], day_marks: list[DayMark]) -> list[Segment]:
    """(start, status, exception) for each elementary segment between consecutive points."""
    segments: list[Segment] = []
    active: list[Span] = []
    pending, mark = 0, -1
    for point in points:
        while pending < len(intervals) and intervals[pending][0] <= point:
            active.append(intervals[pending])
            pending += 1
        active = [i for i in active if i[1] > point]
        while mark + 1 < len(day_marks) and day_marks[mark + 1][0] <= point:
            mark += 1
        if active:
            winner = max(active, key=lambda i: i[2])
            value = (winner[3], winner[4])
        else:
            value = (CLOSED, day_marks[mark][1] if mark >= 0 else None)
        if not segments or segments[-1][1:] != value:
            segments.append((point, *value))
    return segments


def _timeline(segments: list[Segment], valid_from: int, valid_until: int) -> _Timeline:
    """Index the segments for O(log n) lookups of status, next change and since."""
    statuses = tuple(s[1] for s in segments)
    count = len(statuses)
    next_diff = [count] * count
    for i in range(count - 2, -1, -1):
        next_diff[i] = i + 1 if statuses[i + 1] != statuses[i] else next_diff[i + 1]
    run_start = [0] * count
    for i in range(1, count):
        run_start[i] = run_start[i - 1] if statuses[i - 1] == statuses[i] else i
    return _Timeline(
        valid_from=valid_from,
        valid_until=valid_until,
        starts=tuple(s[0] for s in segments),
        statuses=statuses,
        exceptions=tuple(s[2] for s in segments),
        next_diff=tuple(next_diff),
        run_start=tuple(run_start),
    )


def _utc(ts: int) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(ts, UTC)


# Cache --------------------------------------------------------------------------------------

_cache: OrderedDict[tuple[ScheduleKey, str], CompiledSchedule] = OrderedDict()
_lock = threading.Lock()


def compiled(schedule: object, fallback_tz: str) -> CompiledSchedule:
    """The compiled form of schedule, from a small LRU cache keyed by content and fallback.

    Keyed by content, not identity: the poller builds new record objects every refresh, and a
    dict edited in place must not reuse stale rules.
    """
    key = (schedule_key(schedule), fallback_tz)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    zone, fallback = resolve_zone(key[0][0] if isinstance(key[0][0], str) else None, fallback_tz)
    made = CompiledSchedule(compile_rules(key[0]), zone, fallback)
    with _lock:
        _cache[key] = made
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return made


def clear_cache() -> None:
    """Forget compiled schedules (tests)."""
    with _lock:
        _cache.clear()
