"""Normalised 8x8 records: what the rest of Wallboard sees instead of the wire formats.

The shapes are fixed by docs/api-shapes.md: documented field names in snake_case, integers as
int, "-1 means no data" as None, ids as str, unknown fields kept in `extra` under the name they
came with. `to_dict()` gives exactly the JSON that page shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

# Schedule status codes: 0 OPEN, -1 CLOSED, 1..6 CHOICE #1..#6. The vendor's document names the
# CHOICE states without numbers; docs/api-shapes.md fixes them as 1..6 and lists the spellings
# seen on the wire. The one rule for them: the parser and the schedule engine both use it.
OPEN = 0
CLOSED = -1
CHOICES = range(1, 7)
CODES = frozenset((OPEN, CLOSED, *CHOICES))

# "CHOICE #3", "Choice #3", "CHOICE3", "choice 3": case and spacing vary between sources.
_CHOICE = re.compile(r"choice\s*#?\s*([1-6])", re.IGNORECASE)
# Digits only: int() would also take "0_0" (Python's digit grouping), which no source sends.
_INTEGER = re.compile(r"[+-]?\d+")
_WORDS = {"OPEN": OPEN, "CLOSED": CLOSED}


def parse_status(value: object) -> int:
    """Normalise a status as it arrives (number or string) to its integer code.

    Raises ValueError for anything that is not one of the documented spellings, so a
    garbage status is rejected where it is read instead of showing up as a wrong colour.
    """
    if isinstance(value, bool):
        # bool is an int subclass; True is not a status.
        raise ValueError(f"not a schedule status: {value!r}")
    if isinstance(value, int):
        return _checked(value, value)
    if isinstance(value, float) and value.is_integer():
        return _checked(int(value), value)
    if isinstance(value, str):
        return _parse_text(value)
    raise ValueError(f"not a schedule status: {value!r}")


def _parse_text(value: str) -> int:
    """Parse the string spellings: words, CHOICE forms, and numbers in quotes."""
    text = value.strip()
    word = _WORDS.get(text.upper())
    if word is not None:
        return word
    match = _CHOICE.fullmatch(text)
    if match:
        return int(match.group(1))
    if _INTEGER.fullmatch(text):
        return _checked(int(text), value)
    raise ValueError(f"not a schedule status: {value!r}")


def _checked(code: int, original: object) -> int:
    """Return code if it is a known status."""
    if code not in CODES:
        raise ValueError(f"not a schedule status: {original!r}")
    return code


def status_label(code: int) -> str:
    """The label 8x8 uses for a code: OPEN, CLOSED or CHOICE #N."""
    code = _checked(code, code)
    if code == OPEN:
        return "OPEN"
    if code == CLOSED:
        return "CLOSED"
    return f"CHOICE #{code}"


def iso_utc(moment: datetime | None) -> str | None:
    """A moment as JSON spells it here: ISO 8601 in UTC ("...+00:00"), None for no moment.

    One spelling for every answer that carries a time (health, /healthz, `manage.py vcc`),
    whatever zone the moment was computed in.
    """
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _plain(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The documented fields, then unknown ones under their original names.

    Unknown fields go first so a stray wire field can never shadow a documented one.
    """
    out = dict(obj.extra) if obj.extra else {}
    for name in names:
        out[name] = getattr(obj, name)
    return out


@dataclass(slots=True)
class Agent:
    """One agent from /agents or /agent/{id}."""

    agent_id: str
    agent_name: str | None = None
    agent_status: int | None = None
    agent_media_id: int | None = None
    assigned_skill_count: int | None = None
    day_accepted_count: int | None = None
    day_available_time: int | None = None
    day_avg_processing_time: int | None = None
    day_break_time: int | None = None
    day_login_time: int | None = None
    day_offline_time: int | None = None
    day_processing_time: int | None = None
    day_rejected_count: int | None = None
    day_wrap_up_time: int | None = None
    enabled_skill_count: int | None = None
    group_id: str | None = None
    last_login_time: int | None = None
    phone_line1_status: int | None = None
    phone_line1_status_time: int | None = None
    phone_line2_status: int | None = None
    phone_line2_status_time: int | None = None
    status_code_item_id: str | None = None
    status_code_item_short_code: str | None = None
    status_code_list_id: str | None = None
    thirty_min_accepted_count: int | None = None
    thirty_min_available_time: int | None = None
    thirty_min_avg_handling_time: int | None = None
    thirty_min_break_time: int | None = None
    thirty_min_offline_time: int | None = None
    thirty_min_processing_time: int | None = None
    thirty_min_rejected_count: int | None = None
    thirty_min_wrap_up_time: int | None = None
    time_in_status: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _plain(self, AGENT_FIELDS)


@dataclass(slots=True)
class Queue:
    """One queue from /queues or /queue/{id}."""

    queue_id: str
    queue_name: str | None = None
    media_type: str | None = None
    queue_type: str | None = None
    agent_count_busy: int | None = None
    agent_count_logged_out: int | None = None
    agent_count_on_break: int | None = None
    agent_count_post_process: int | None = None
    agent_count_wait_transact: int | None = None
    agent_count_work_offline: int | None = None
    day_abandoned: int | None = None
    day_accepted: int | None = None
    day_avg_duration: int | None = None
    day_avg_wait_time: int | None = None
    day_queued: int | None = None
    day_sla_activity: int | None = None
    assigned_agent_count: int | None = None
    enabled_agent_count: int | None = None
    longest_wait_time: int | None = None
    number_in_offered: int | None = None
    number_in_progress: int | None = None
    queue_size: int | None = None
    sla_activity: int | None = None
    sla_target: int | None = None
    thirty_min_abandoned: int | None = None
    thirty_min_accepted: int | None = None
    thirty_min_avg_duration: int | None = None
    thirty_min_avg_wait_time: int | None = None
    thirty_min_longest_wait_time: int | None = None
    thirty_min_queued: int | None = None
    thirty_min_sla_activity: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _plain(self, QUEUE_FIELDS)


@dataclass(slots=True)
class ScheduleInterval:
    """One `properties` element: a status that holds from start_time to end_time."""

    status: int
    start_time: str | None = None
    end_time: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "start_time": self.start_time, "end_time": self.end_time}


@dataclass(slots=True)
class WeekDay:
    """One `week-day`: a day number and its intervals (several may name the same day)."""

    day: int
    properties: list[ScheduleInterval] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"day": self.day, "properties": [p.to_dict() for p in self.properties]}


@dataclass(slots=True)
class ScheduleException:
    """A dated exception; no properties means CLOSED all that day."""

    date: str
    name: str | None = None
    properties: list[ScheduleInterval] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "date": self.date, "properties": [p.to_dict() for p in self.properties]}


@dataclass(slots=True)
class Schedule:
    """A tenant schedule definition; time_zone is kept exactly as it came."""

    id: str
    name: str | None = None
    time_zone: str | None = None
    week_days: list[WeekDay] = field(default_factory=list)
    exceptions: list[ScheduleException] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.extra) if self.extra else {}
        out.update(
            id=self.id,
            name=self.name,
            time_zone=self.time_zone,
            week_days=[d.to_dict() for d in self.week_days],
            exceptions=[e.to_dict() for e in self.exceptions],
        )
        return out


@dataclass(slots=True)
class ScheduleStatus:
    """The answer of /schedules/{id}/status."""

    status: int

    @property
    def label(self) -> str:
        return status_label(self.status)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "label": self.label}


@dataclass(slots=True)
class ScheduleNextStatus:
    """The answer of /schedules/{id}/nextstatus: the status now and the next change."""

    status: int
    next_status: int | None = None
    next_change: datetime | None = None

    @property
    def label(self) -> str:
        return status_label(self.status)

    @property
    def next_label(self) -> str | None:
        return None if self.next_status is None else status_label(self.next_status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "label": self.label,
            "next_status": self.next_status,
            "next_label": self.next_label,
            "next_change": self.next_change.isoformat() if self.next_change else None,
        }


AGENT_FIELDS = tuple(f.name for f in fields(Agent) if f.name != "extra")
QUEUE_FIELDS = tuple(f.name for f in fields(Queue) if f.name != "extra")
