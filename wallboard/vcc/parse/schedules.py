"""Schedules (the Tenant Schedule API): definitions, the status now, the next change.

These answers are small, so they go through plain data (`load.load_data`) and are read field
by field; the shapes and spellings accepted are those of docs/api-shapes.md.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ..errors import MalformedError
from ..records import (
    Schedule,
    ScheduleException,
    ScheduleInterval,
    ScheduleNextStatus,
    ScheduleStatus,
    WeekDay,
    parse_status,
)
from .fields import plain_text, text
from .load import as_list, load_data, unwrap

_KNOWN = {"id", "name", "time-zone", "week-days", "exceptions"}
_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DATE_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
# Day numbers as the schedule engine reads them: 0 = Sunday ... 6 = Saturday.
_DAY_NAMES = {name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_CLOCK = re.compile(r"(\d{1,2}):(\d{1,2})(?::\d{1,2})?")


def schedules(body: bytes) -> list[Schedule]:
    """All schedules in a /schedules or /schedulesbyname/{name} answer."""
    items = unwrap(load_data(body), "schedules", "schedule", "id")
    return [_schedule(item) for item in as_list(items) if item not in (None, "")]


def status(body: bytes) -> ScheduleStatus:
    """A /schedules/{id}/status answer."""
    data = _status_object(load_data(body), "schedule-status")
    return ScheduleStatus(status=_status(data.get("status")))


def next_status(body: bytes) -> ScheduleNextStatus:
    """A /schedules/{id}/nextstatus answer: now, and what comes next and when."""
    data = _status_object(load_data(body), "schedule-next-status")
    raw_next = _blank_to_none(data.get("next-status"))
    return ScheduleNextStatus(
        status=_status(data.get("status")),
        next_status=None if raw_next is None else _status(raw_next),
        next_change=_epoch_ms(data.get("next-change-utctime")),
    )


def _blank_to_none(value: object) -> object:
    """None for an absent or blank value; anything else as it came."""
    return None if isinstance(value, str) and text(value) is None else value


def _text(value: object, what: str) -> str | None:
    try:
        return plain_text(value)
    except TypeError:
        raise MalformedError(f"{what} is not a plain value") from None


def _status(value: object) -> int:
    try:
        return parse_status(value)
    except ValueError as exc:
        raise MalformedError(str(exc)) from None


def _status_object(data: Any, wrapper: str) -> dict[str, Any]:
    if isinstance(data, dict) and wrapper in data:
        data = data[wrapper]
    if not isinstance(data, dict) or "status" not in data:
        raise MalformedError(f"expected {wrapper} with a status")
    return data


def _epoch_ms(value: object) -> datetime | None:
    value = _blank_to_none(value)
    if value is None:
        return None
    try:
        ms = int(str(value).strip())
    except ValueError:
        raise MalformedError(f"next-change-utctime is not epoch milliseconds: {str(value)[:40]!r}") from None
    if ms < 0:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedError(f"next-change-utctime is out of range: {ms}") from None


def _schedule(item: object) -> Schedule:
    if not isinstance(item, dict):
        raise MalformedError("expected a schedule object")
    schedule_id = _text(item.get("id"), "schedule id")
    if schedule_id is None:
        raise MalformedError("a schedule without its id")
    return Schedule(
        id=schedule_id,
        name=_text(item.get("name"), "schedule name"),
        time_zone=_text(item.get("time-zone"), "schedule time-zone"),
        week_days=[_week_day(d) for d in as_list(_inner(item.get("week-days"), "week-day"))],
        exceptions=[_exception(e) for e in as_list(_inner(item.get("exceptions"), "exception"))],
        extra={k: v for k, v in item.items() if k not in _KNOWN},
    )


def _inner(value: object, singular: str) -> object:
    """`{"week-day": [...]}` -> the list; a bare list or object passes through."""
    if isinstance(value, dict) and set(value) == {singular}:
        return value[singular]
    if isinstance(value, dict) and not value:
        return None
    return value


def _week_day(item: object) -> WeekDay:
    if not isinstance(item, dict):
        raise MalformedError("expected a week-day object")
    day = _blank_to_none(item.get("day"))
    name = str(day).strip().lower()
    number = _DAY_NAMES.get(name[:3]) if name.isalpha() else None
    if number is None:
        try:
            number = int(name)
        except ValueError:
            raise MalformedError(f"week-day day is not a day: {str(day)[:40]!r}") from None
    return WeekDay(day=number, properties=_intervals(item.get("properties")))


def _exception(item: object) -> ScheduleException:
    if not isinstance(item, dict):
        raise MalformedError("expected an exception object")
    return ScheduleException(
        name=_text(item.get("name"), "exception name"),
        date=_date(item.get("date")),
        properties=_intervals(item.get("properties")),
    )


def _intervals(value: object) -> list[ScheduleInterval]:
    out = []
    for item in as_list(value):
        if not isinstance(item, dict):
            raise MalformedError("expected schedule properties with status, start-time, end-time")
        out.append(
            ScheduleInterval(
                status=_status(item.get("status")),
                start_time=_clock(item.get("start-time")),
                end_time=_clock(item.get("end-time")),
            )
        )
    return out


def _clock(value: object) -> str | None:
    """HH:MM, zero-padded so the engine and the UI compare like with like."""
    clock = _text(value, "schedule time")
    if clock is None:
        return None
    match = _CLOCK.fullmatch(clock)
    if match is None:
        raise MalformedError(f"not a time of day: {clock[:40]!r}")
    return f"{int(match.group(1)):02d}:{int(match.group(2)):02d}"


def _date(value: object) -> str:
    """YYYY-MM-DD from YYYY-MM-DD or MM/DD/YYYY."""
    date = _text(value, "exception date")
    if date is None:
        raise MalformedError("a schedule exception without its date")
    iso = _DATE_ISO.fullmatch(date)
    us = _DATE_US.fullmatch(date)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif us:
        month, day, year = (int(g) for g in us.groups())
    else:
        raise MalformedError(f"not a date: {date[:40]!r}")
    try:
        return datetime(year, month, day).date().isoformat()
    except ValueError:
        raise MalformedError(f"not a date: {date[:40]!r}") from None
