"""Sample tenant schedules and an independent, deliberately simple open/closed evaluator.

The project tests its real schedule engine (`wallboard.schedules`) against this module's answers,
so nothing here may come from that engine: the evaluator is a brute-force look-up of the local
date and minute, and /nextstatus is a minute-by-minute scan.

Rules (docs/schedules.md, the single statement of them; docs/api-shapes.md for the shapes):
- The status at an instant is looked up from the local wall-clock reading (date and minute) in
  the schedule's zone, as 8x8 says: "calculated at current time in time zone of specific
  schedule". Nothing else: the repeated hour of a fall-back is looked up twice, a time skipped
  by spring-forward never.
- `day` 0=Sunday .. 6=Saturday; each interval is [start, end) in the schedule's local wall time,
  at whole minutes (seconds never matter).
- `end` 00:00 or 24:00 means midnight at the end of the day; `start == end` otherwise is empty.
- `end` before `start` spans midnight: the part after midnight belongs to the day it started on.
- An exception for a local date replaces that date's week-day rules (the first one listed, if
  two name the date). An exception without intervals is CLOSED 00:00-24:00.
- Spill-over: the after-midnight part of the previous date's spanning interval still applies on
  the next date, even when that date has an exception; the spill-over comes from the previous
  date's own rules (its exception if it has one, else its week-day rules).
- Overlaps: of the intervals covering the minute, the one that started latest wins (so the
  date's own intervals beat the previous date's spill-over); for the same start, the one
  listed later (week-day elements, then properties, in document order). Outside every
  interval: CLOSED.
- A zone that zoneinfo does not know (empty, garbage, the vendor's sample `PST8DT`) means the
  tenant's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

OPEN, CLOSED = 0, -1
Status = int | str  # 0, -1 or "CHOICE #N" as on the wire
SCAN_DAYS = 15  # /nextstatus looks this far ahead; a schedule constant for longer never changes


@dataclass(frozen=True)
class Interval:
    status: Status
    start: str  # "HH:MM"
    end: str


@dataclass(frozen=True)
class WeekDay:
    day: int
    properties: tuple[Interval, ...]


@dataclass(frozen=True)
class Exception_:
    name: str
    date: str  # YYYY-MM-DD
    properties: tuple[Interval, ...] = ()


@dataclass(frozen=True)
class Schedule:
    id: str
    name: str
    time_zone: str
    week_days: tuple[WeekDay, ...]
    exceptions: tuple[Exception_, ...] = field(default=())


def _iv(status: Status, start: str, end: str) -> Interval:
    return Interval(status, start, end)


def _days(days: range | tuple[int, ...], *intervals: Interval) -> tuple[WeekDay, ...]:
    return tuple(WeekDay(d, tuple(intervals)) for d in days)


MON_FRI = range(1, 6)
EVERY_DAY = range(0, 7)


def sample_schedules(today: date) -> list[Schedule]:
    """The tenant's schedules; holidays fall in today's year and the next, a few dates near today."""
    y = today.year
    soon = [today + timedelta(days=n) for n in range(1, 5)]
    return [
        Schedule(
            "101", "Support Hours", "America/New_York",
            _days(MON_FRI, _iv(OPEN, "08:00", "20:00")) + _days((6,), _iv(OPEN, "09:00", "13:00")),
            (
                Exception_("New Year's Day", f"{y}-01-01"),
                Exception_("Christmas Eve", f"{y}-12-24", (_iv(OPEN, "08:00", "12:00"),)),
                Exception_("Christmas Day", f"{y}-12-25", (_iv(CLOSED, "00:00", "24:00"),)),
                Exception_("New Year's Day", f"{y + 1}-01-01"),
                Exception_("Team training", soon[1].isoformat(), (_iv(OPEN, "10:00", "16:00"),)),
            ),
        ),
        Schedule(
            "102", "Sales", "Europe/London",
            # Two week-day elements for the same days: the CHOICE interval is listed separately.
            _days(MON_FRI, _iv(OPEN, "09:00", "17:30"))
            + _days(MON_FRI, _iv("CHOICE #1", "17:30", "19:00"))
            + _days((6,), _iv("CHOICE #2", "10:00", "14:00")),
            (Exception_("Boxing Day", f"{y}-12-26"), Exception_("Bank holiday", soon[2].isoformat())),
        ),
        Schedule(
            "103", "Night Desk", "America/Chicago",
            # Spans midnight every night; the exception two days ahead keeps last night's spill-over.
            _days(EVERY_DAY, _iv(OPEN, "22:00", "06:00")),
            (Exception_("Maintenance night", soon[0].isoformat(), (_iv(OPEN, "10:00", "14:00"),)),),
        ),
        Schedule(
            "104", "West Coast Line", "PST8PDT",
            _days(MON_FRI, _iv(OPEN, "07:00", "16:00"), _iv("CHOICE #3", "16:00", "24:00"))
            + _days((0,), _iv(OPEN, "12:00", "00:00")),
            (Exception_("Independence Day", f"{y}-07-04"),),
        ),
        Schedule(
            "105", "Global 24x7", "Asia/Kolkata",
            _days(EVERY_DAY, _iv(OPEN, "00:00", "24:00")),
            (
                Exception_(
                    "Platform upgrade", soon[3].isoformat(),
                    (_iv(OPEN, "00:00", "02:30"), _iv(CLOSED, "02:30", "04:00"), _iv(OPEN, "04:00", "24:00")),
                ),
            ),
        ),
        Schedule("106", "Legacy Line", "PST8DT", _days(MON_FRI, _iv(OPEN, "08:00", "17:00"))),
        Schedule(
            "107", "APAC Support", "Australia/Sydney",
            _days(MON_FRI, _iv(OPEN, "08:30", "12:00"), _iv("CHOICE #4", "12:00", "13:00"), _iv(OPEN, "13:00", "17:00")),
            (Exception_("Australia Day", f"{y}-01-26"),),
        ),
    ]


def zone_of(schedule: Schedule, tenant_tz: tzinfo) -> tzinfo:
    """The schedule's zone, or the tenant's when the name is not one zoneinfo knows."""
    name = (schedule.time_zone or "").strip()
    if not name:
        return tenant_tz
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return tenant_tz


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _span(iv: Interval) -> tuple[int, int]:
    """(start, end) in minutes; end 0 or 1440 is the end of the day; end < start spans midnight."""
    start, end = _minutes(iv.start), _minutes(iv.end)
    if end == 0:
        end = 1440
    return start, end


def rules_for(schedule: Schedule, day: date) -> list[Interval]:
    """The date's own intervals in document order: its exception's, else its week-day's."""
    iso = day.isoformat()
    for exc in schedule.exceptions:
        if exc.date == iso:
            return list(exc.properties) or [Interval(CLOSED, "00:00", "24:00")]
    weekday = (day.weekday() + 1) % 7  # Python: Monday=0; the API: Sunday=0
    return [iv for wd in schedule.week_days if wd.day == weekday for iv in wd.properties]


def status_local(schedule: Schedule, day: date, minute: int) -> Status:
    """Status at a local date and minute of day (0..1439): the covering interval that started last."""
    covering = []  # ((which day, start, position), status); today's day sorts after yesterday's
    for position, iv in enumerate(rules_for(schedule, day)):
        start, end = _span(iv)
        if (start < end and start <= minute < end) or (end < start and minute >= start):
            covering.append(((1, start, position), iv.status))
    for position, iv in enumerate(rules_for(schedule, day - timedelta(days=1))):
        start, end = _span(iv)
        if end < start and minute < end:
            covering.append(((0, start, position), iv.status))
    if not covering:
        return CLOSED
    return max(covering, key=lambda found: found[0])[1]


def status_at(schedule: Schedule, when: datetime, tenant_tz: tzinfo) -> Status:
    """Status at an aware instant, in the schedule's zone."""
    local = when.astimezone(zone_of(schedule, tenant_tz))
    return status_local(schedule, local.date(), local.hour * 60 + local.minute)


def next_status(schedule: Schedule, when: datetime, tenant_tz: tzinfo) -> tuple[Status, Status, int]:
    """(status now, next status, epoch ms of the change) by scanning whole UTC minutes ahead.

    Scanning UTC minutes and converting each one handles DST gaps and repeats without special
    cases. Without a change within SCAN_DAYS the next status is the current one and the time -1.
    """
    zone = zone_of(schedule, tenant_tz)
    now = status_at(schedule, when, tenant_tz)
    minute = when.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    cache: dict[date, list[Status | None]] = {}
    for _ in range(SCAN_DAYS * 1440):
        local = minute.astimezone(zone)
        day = local.date()
        row = cache.get(day)
        if row is None:
            row = cache[day] = [None] * 1440
        m = local.hour * 60 + local.minute
        status = row[m]
        if status is None:
            status = row[m] = status_local(schedule, day, m)
        if status != now:
            return now, status, int(minute.timestamp() * 1000)
        minute += timedelta(minutes=1)
    return now, now, -1


def status_label(status: Status) -> str:
    """OPEN, CLOSED or the CHOICE text as it is."""
    if status == OPEN:
        return "OPEN"
    if status == CLOSED:
        return "CLOSED"
    return str(status)
