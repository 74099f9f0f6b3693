"""Turn a schedule (vcc record or api-shapes dict) into compiled rules.

Two steps: `schedule_key` reads whichever shape it is given into a hashable tuple of raw
values (cheap, done every call), and `compile_rules` parses that tuple once (cached) into
per-week-day and per-date rules with minutes since midnight.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from wallboard.schedules.codes import CLOSED, parse_status

DAY = 1440  # minutes
_DAY_NAMES = {
    name: index
    for index, names in enumerate(
        [("sun", "sunday"), ("mon", "monday"), ("tue", "tuesday"), ("wed", "wednesday"),
         ("thu", "thursday"), ("fri", "friday"), ("sat", "saturday")]
    )
    for name in names
}
_TIME = re.compile(r"(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?\s*([ap]\.?m\.?)?", re.IGNORECASE)
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_PLAIN = frozenset((str, int, float, type(None)))


# A schedule's raw content as schedule_key reads it (atoms: hashable raw values).
Interval = tuple[object, object, object]  # (status, start, end)
WeekDayKey = tuple[object, tuple[Interval, ...]]  # (day, intervals)
ExceptionKey = tuple[object, object, tuple[Interval, ...]]  # (name, date, intervals)
ScheduleKey = tuple[object, tuple[WeekDayKey, ...], tuple[ExceptionKey, ...]]  # (time zone, week days, exceptions)


@dataclass(frozen=True)
class Rule:
    """One interval of a day's rules, in minutes since that day's local midnight."""

    start: int
    end: int  # > start; above 1440 when the interval spans midnight
    status: int
    order: int  # position in the schedule's definition, for overlap ties
    exception: str | None  # label of the exception it comes from, None for week-day rules


@dataclass(frozen=True)
class Rules:
    """A schedule's rules: index 0 = Sunday ... 6 = Saturday, and exceptions by date ordinal."""

    week: tuple[tuple[Rule, ...], ...]
    exceptions: dict[int, tuple[str, tuple[Rule, ...]]] = field(hash=False)
    problems: tuple[str, ...] = ()


# Reading any shape --------------------------------------------------------------------------


def schedule_key(schedule: object) -> ScheduleKey:
    """A hashable tuple of the schedule's raw content: (time zone, week days, exceptions)."""
    week_days = tuple(
        (_atom(_field(week_day, "day")), _properties_key(week_day))
        for week_day in _items(_field(schedule, "week_days"), "week_day")
    )
    exceptions = tuple(
        (_atom(_field(exc, "name")), _atom(_field(exc, "date")), _properties_key(exc))
        for exc in _items(_field(schedule, "exceptions"), "exception")
    )
    return (_atom(_field(schedule, "time_zone")), week_days, exceptions)


def schedule_id(schedule: object) -> object:
    """The schedule's id, for messages."""
    return _field(schedule, "id")


def _properties_key(owner: object) -> tuple[Interval, ...]:
    """The (status, start, end) triples of a week-day or exception."""
    return tuple(
        (_atom(_field(prop, "status")), _atom(_field(prop, "start_time")), _atom(_field(prop, "end_time")))
        for prop in _items(_field(owner, "properties"), "properties")
    )


def _field(obj: object, name: str) -> object:
    """Read name from a dict (snake_case or wire hyphen-case) or from an object attribute."""
    # type() before isinstance(): this runs for every field of every schedule every cycle,
    # and the ABC check is the slow part.
    if type(obj) is dict or isinstance(obj, Mapping):
        value = obj.get(name)
        if value is None and "_" in name:
            return obj.get(name.replace("_", "-"))
        return value
    return getattr(obj, name, None)


def _items(value: object, wrapper: str) -> tuple[object, ...]:
    """A list as a tuple; a lone object as a list of one; a {"week-day": [...]} wrapper unwrapped."""
    if value is None:
        return ()
    if isinstance(value, Mapping):
        inner = _field(value, wrapper)
        if inner is not None:
            return _items(inner, wrapper)
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(value)
    return (value,)


def _atom(value: object) -> object:
    """A hashable stand-in for a raw value."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, str | int | float):
        return value  # subclasses, e.g. an IntEnum
    if isinstance(value, datetime | date):
        return value.isoformat()
    return repr(value)


# Parsing ------------------------------------------------------------------------------------


def compile_rules(key: ScheduleKey) -> Rules:
    """Parse a schedule_key into Rules; bad parts are skipped and listed in problems."""
    problems: list[str] = []
    week: list[list[Rule]] = [[] for _ in range(7)]
    order = 0
    for day_raw, props in key[1]:
        day = _parse_day(day_raw)
        if day is None:
            problems.append(f"week-day {day_raw!r}: not a day 0..6")
            continue
        for prop in props:
            rule = _parse_rule(prop, order, None, problems)
            order += 1
            if rule is not None:
                week[day].append(rule)
    exceptions: dict[int, tuple[str, tuple[Rule, ...]]] = {}
    for name, date_raw, props in key[2]:
        day = _parse_date(date_raw)
        if day is None:
            problems.append(f"exception {name!r}: bad date {date_raw!r}")
            continue
        label = name if isinstance(name, str) and name.strip() else date.fromordinal(day).isoformat()
        if day in exceptions:
            # The first one listed wins, as in the simulator; merging two would invent hours.
            problems.append(f"exception {label!r}: another exception already covers {date.fromordinal(day)}")
            continue
        # No properties means closed all that day (docs/api-shapes.md).
        props = props or ((CLOSED, "00:00", "24:00"),)
        rules = [r for r in (_parse_rule(p, order + i, label, problems) for i, p in enumerate(props)) if r]
        order += len(props)
        exceptions[day] = (label, tuple(rules))
    return Rules(tuple(tuple(rules) for rules in week), exceptions, tuple(problems))


def _parse_rule(prop: Interval, order: int, exception: str | None, problems: list[str]) -> Rule | None:
    """One (status, start, end) triple as a Rule, None (and a problem) if unusable or empty."""
    status_raw, start_raw, end_raw = prop
    try:
        status = parse_status(status_raw)
    except ValueError:
        problems.append(f"status {status_raw!r}: not a schedule status")
        return None
    # An absent time is the edge of the day ({"status": -1} alone closes the whole day);
    # a present but unreadable one drops the interval.
    start = 0 if start_raw is None else parse_time(start_raw)
    end = DAY if end_raw is None else parse_time(end_raw)
    if start is None or end is None:
        problems.append(f"interval {start_raw!r}-{end_raw!r}: not HH:MM")
        return None
    if end == 0:
        end = DAY  # An end of 00:00 is the midnight that ends the day.
    if end < start:
        end += DAY  # Spans midnight into the next day.
    if end == start:
        return None  # Empty: 08:00-08:00 is nothing, not 24 hours.
    return Rule(start, end, status, order, exception)


def parse_time(value: object) -> int | None:
    """Minutes since midnight for "HH:MM" (also H:M, HH:MM:SS, 8:00 PM, 24:00); None if not a time."""
    if not isinstance(value, str):
        return None
    match = _TIME.fullmatch(value.strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    meridiem = (match.group(4) or "").lower().replace(".", "")
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    # Seconds are dropped: schedules are defined to the minute.
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        return None
    return hour * 60 + minute


def _parse_day(value: object) -> int | None:
    """0 = Sunday ... 6 = Saturday, from an int, a digit string or an English day name."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= 6 else None
    if isinstance(value, str):
        text = value.strip().lower()
        if text.isdigit():
            return _parse_day(int(text))
        return _DAY_NAMES.get(text)
    return None


def _parse_date(value: object) -> int | None:
    """The ordinal of a YYYY-MM-DD or MM/DD/YYYY date, None if not a date."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _ISO_DATE.fullmatch(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _US_DATE.fullmatch(text)
        if not match:
            return None
        month, day, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day).toordinal()
    except ValueError:
        return None
