"""Evaluate a ContactNow time-of-day policy: which rule applies at an instant, and the next change.

A policy is a default action and numbered rules (../shared/api/contactnow-tod-rules-api.txt).
At a local wall-clock reading the matching rule with the highest number decides the action;
with none matching, the policy's default does. The rules in full are in docs/schedules.md
("ContactNow time-of-day policies"). Pure: no Django, no I/O.

DST is handled as in the 8x8 engine (wallboard.schedules.engine): the rules are swept into
wall-clock segments, then each stretch of constant UTC offset reads its part of them, so a
fall-back's repeated hour is read twice and a spring-forward gap is skipped.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from wallboard.schedules.zones import offset_periods, resolve_zone, zone_name

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
CLOSED_ACTIONS = frozenset({"voicemail", "hangup"})
HORIZON_DAYS = 8
HORIZON_SECONDS = HORIZON_DAYS * 86400
_EPOCH_DAY = 719163  # date(1970, 1, 1).toordinal()
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{1,2})\s*$")
_CACHE_SIZE = 512

# (start, end, (rule number, position), action) in wall-clock seconds.
_Interval = tuple[int, int, tuple[int, int], str]
# (start, action, rule number or None) in seconds.
_Segment = tuple[int, str, int | None]


@dataclass(frozen=True)
class TodRuleSpec:
    """One rule, read for evaluation: minutes since local midnight, 0 = any for the date parts."""

    number: int
    year: int
    month: int
    date: int
    days: frozenset[int]  # date.weekday() values; empty = every day
    ranges: tuple[tuple[int, int], ...]  # (start, end) minutes; end 0 = the midnight ending the day
    action: str

    def matches_day(self, day: dt.date) -> bool:
        """True if the rule's year, month, date and days allow this local date."""
        return (
            (self.year == 0 or self.year == day.year)
            and (self.month == 0 or self.month == day.month)
            and (self.date == 0 or self.date == day.day)
            and (not self.days or day.weekday() in self.days)
        )


@dataclass(frozen=True)
class TodState:
    """A policy's outcome at one instant."""

    state: str  # open, closed or redirect
    action: str
    rule: int | None  # None: the policy's default applied
    target: str | None  # the queue id of a jump:<id>
    next_change: datetime | None  # when state or target next changes, within 8 days
    next_state: str | None
    next_action: str | None
    zone: str

    def to_dict(self) -> dict[str, Any]:
        """What `manage.py vcc tod status` prints."""
        return {
            "state": self.state,
            "action": self.action,
            "rule": self.rule,
            "next_change": self.next_change.isoformat() if self.next_change else None,
        }


@dataclass(frozen=True)
class Band:
    """A stretch of time with one action, for the editor's preview."""

    start: datetime
    end: datetime
    action: str
    state: str
    rule: int | None


# Actions ------------------------------------------------------------------------------------


def action_state(action: str) -> str:
    """open (queue), closed (voicemail, hangup) or redirect (jump:<id>).

    An action the document does not list is taken as open: it must not mute a board's alarms.
    """
    action = action.strip().lower()
    if action in CLOSED_ACTIONS:
        return "closed"
    if action.startswith("jump:"):
        return "redirect"
    return "open"


def action_target(action: str) -> str | None:
    """The queue id of a jump:<id> action, else None."""
    action = action.strip().lower()
    return action[5:].strip() or None if action.startswith("jump:") else None


def _outcome(action: str) -> tuple[str, str | None]:
    """What a change is measured on: voicemail and hangup are both just closed."""
    return action_state(action), action_target(action)


# Reading rules ------------------------------------------------------------------------------


def parse_time(text: str) -> int:
    """Minutes since midnight for "H:M" or "HH:MM" (one-digit parts allowed, 24:00 allowed)."""
    m = _TIME.match(text)
    if not m:
        raise ValueError(f"not a time of day: {text!r}")
    hours, minutes = int(m.group(1)), int(m.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"not a time of day: {text!r}")
    return hours * 60 + minutes


def rule_spec(rule: object) -> TodRuleSpec:
    """A rule from a wallboard.vcc.contactnow.TodRule or its to_dict() shape."""
    ranges = []
    for pair in _get(rule, "ranges") or ():
        start, end = (parse_time(p) if isinstance(p, str) else int(p) for p in pair)
        ranges.append((start % 1440, end % 1440))
    days = frozenset(DAY_NAMES.index(str(d).strip().lower()[:3]) for d in _get(rule, "days") or ())
    return TodRuleSpec(
        number=int(_get(rule, "rule") or 0),
        year=int(_get(rule, "year") or 0),
        month=int(_get(rule, "month") or 0),
        date=int(_get(rule, "date") or 0),
        days=days,
        ranges=tuple(ranges),
        action=str(_get(rule, "action") or "").strip().lower(),
    )


def _get(item: object, name: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


# Evaluation ---------------------------------------------------------------------------------


def evaluate(default: str, rules: Iterable[object], at: datetime, time_zone: str) -> TodState:
    """The policy's state at the aware instant at, in the account's time_zone."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("evaluate() needs a timezone-aware instant")
    return compiled(default, rules, time_zone).state_at(int(at.timestamp() // 1))


def bands(default: str, rules: Iterable[object], start: datetime, end: datetime, time_zone: str) -> list[Band]:
    """The stretches of one action between start and end (the editor's preview)."""
    policy = compiled(default, rules, time_zone)
    return policy.bands(int(start.timestamp()), int(end.timestamp()))


class CompiledPolicy:
    """A policy's rules in one zone, with the timeline last built for it."""

    def __init__(self, default: str, rules: tuple[TodRuleSpec, ...], zone: tzinfo) -> None:
        self.default = default.strip().lower() or "queue"
        self.rules = rules
        self.zone = zone
        self.zone_name = zone_name(zone)
        self._timeline: tuple[int, int, list[_Segment]] | None = None

    def state_at(self, ts: int) -> TodState:
        """The state at epoch second ts."""
        timeline = self._timeline
        # Valid bounds are wall-clock readings: a day's margin covers any UTC offset.
        if timeline is None or not (timeline[0] + 86400 <= ts and ts + HORIZON_SECONDS + 86400 < timeline[1]):
            centre = datetime.fromtimestamp(ts, self.zone).toordinal()
            timeline = self._timeline = self._build(centre - 2, centre + HORIZON_DAYS + 3)
        segments = timeline[2]
        i = bisect_right(segments, ts, key=lambda s: s[0]) - 1
        _, action, rule = segments[i]
        now = _outcome(action)
        next_change = next_action = None
        for start, later, _rule in segments[i + 1:]:
            if start > ts + HORIZON_SECONDS:
                break
            if _outcome(later) != now:
                next_change, next_action = datetime.fromtimestamp(start, UTC), later
                break
        return TodState(
            state=now[0],
            action=action,
            rule=rule,
            target=now[1],
            next_change=next_change,
            next_state=action_state(next_action) if next_action else None,
            next_action=next_action,
            zone=self.zone_name,
        )

    def bands(self, start: int, end: int) -> list[Band]:
        """Merged segments of one (action, rule) cut to [start, end)."""
        first = datetime.fromtimestamp(start, self.zone).toordinal() - 1
        last = datetime.fromtimestamp(end, self.zone).toordinal() + 2
        _, _, segments = self._build(first, last)
        out: list[Band] = []
        for k, (seg_start, action, rule) in enumerate(segments):
            seg_end = segments[k + 1][0] if k + 1 < len(segments) else end
            lo, hi = max(seg_start, start), min(seg_end, end)
            if lo >= hi:
                continue
            if out and out[-1].action == action and out[-1].rule == rule:
                out[-1] = Band(out[-1].start, _utc(hi), action, out[-1].state, rule)
            else:
                out.append(Band(_utc(lo), _utc(hi), action, action_state(action), rule))
        return out

    def _build(self, first: int, last: int) -> tuple[int, int, list[_Segment]]:
        """(valid from, valid until, UTC segments) for the local days first..last."""
        wall = self._wall_segments(first - 1, last)
        # A day's margin either side covers any UTC offset.
        valid_from, valid_until = _wall_seconds(first, 0), _wall_seconds(last, 0)
        periods = offset_periods(self.zone, valid_from, valid_until)
        return valid_from, valid_until, _read_wall(wall, periods, valid_until)

    def _wall_segments(self, first: int, last: int) -> list[_Segment]:
        """Wall-clock segments: the highest-numbered matching rule, else the default."""
        intervals: list[_Interval] = []
        for day in range(first, last + 1):
            local = dt.date.fromordinal(day)
            for position, rule in enumerate(self.rules):
                if not rule.matches_day(local):
                    continue
                for start, end in rule.ranges:
                    end = end or 1440
                    if end < start:
                        end += 1440  # crosses midnight: on into the next day
                    if end > start:
                        key = (rule.number, position)
                        intervals.append((_wall_seconds(day, start), _wall_seconds(day, end), key, rule.action))
        origin = _wall_seconds(first, 0)
        points = sorted({origin} | {i[0] for i in intervals if i[0] > origin} | {i[1] for i in intervals if i[1] > origin})
        intervals.sort()
        segments: list[_Segment] = []
        active: list[_Interval] = []
        pending = 0
        for point in points:
            while pending < len(intervals) and intervals[pending][0] <= point:
                active.append(intervals[pending])
                pending += 1
            active = [i for i in active if i[1] > point]
            if active:
                winner = max(active, key=lambda i: i[2])
                value: tuple[str, int | None] = (winner[3], winner[2][0])
            else:
                value = (self.default, None)
            if not segments or segments[-1][1:] != value:
                segments.append((point, *value))
        return segments


def _read_wall(wall: list[_Segment], periods: tuple[tuple[int, int], ...], until: int) -> list[_Segment]:
    """UTC segments: each stretch of constant offset reads the wall segments it spans."""
    starts = [s[0] for s in wall]
    out: list[_Segment] = []
    for k, (period_start, offset) in enumerate(periods):
        period_end = periods[k + 1][0] if k + 1 < len(periods) else until
        current = max(bisect_right(starts, period_start + offset) - 1, 0)
        _append(out, period_start, wall[current])
        for segment in wall[current + 1:]:
            at = segment[0] - offset
            if at >= period_end:
                break
            _append(out, at, segment)
    return out


def _append(out: list[_Segment], start: int, segment: _Segment) -> None:
    if not out or out[-1][1:] != segment[1:]:
        out.append((start, segment[1], segment[2]))


def _wall_seconds(day: int, minute: int) -> int:
    """A wall-clock reading (date ordinal, minutes) on the scale of UTC epoch seconds."""
    return (day - _EPOCH_DAY) * 86400 + minute * 60


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# Cache --------------------------------------------------------------------------------------

_cache: OrderedDict[tuple[str, tuple[TodRuleSpec, ...], str], CompiledPolicy] = OrderedDict()
_lock = threading.Lock()


def compiled(default: str, rules: Iterable[object], time_zone: str) -> CompiledPolicy:
    """The compiled policy from a small LRU cache keyed by content: the poller re-reads rules."""
    specs = tuple(rule_spec(r) for r in rules)
    key = (default, specs, time_zone)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    zone, _ = resolve_zone(time_zone, "UTC")
    made = CompiledPolicy(default, specs, zone)
    with _lock:
        _cache[key] = made
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return made
