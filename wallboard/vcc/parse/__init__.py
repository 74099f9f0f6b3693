"""Wire bodies (XML or JSON) -> normalised records (`wallboard.vcc.records`).

Every function takes the raw body as bytes and sniffs the format from its first character, so
a server that ignores the `.json` suffix still works. The modules, one job each:

- `sniff`: what a body is (XML or JSON, encoding, whether it can hold a DTD).
- `load`: bodies as data: JSON as `json.loads` reads it, XML safely as a tree.
- `lenient_xml`: the parser for the vendor's mismatched closing tags.
- `strict_xml`: the plain-XML fast path for agent and queue lists.
- `typed`: the first way for JSON agent and queue lists: msgspec into typed structs.
- `columns`: the columnar fast path for the JSON lists `typed` leaves (and for plain XML).
- `fields`: the field rules (names, aliases, text, numbers, "-1 means no data"), once.
- `plans`: per-layout plans, and the fast and careful ways to read one record.
- `stats`: agents and queues, the ways from a body to records.
- `schedules`: schedules, their status now, and the next change.
"""

from __future__ import annotations

from typing import Literal

from ..errors import MalformedError
from ..records import Agent, Queue, Schedule, ScheduleNextStatus, ScheduleStatus
from . import schedules, stats
from .fields import AGENTS, QUEUES
from .stats import Route

__all__ = [
    "Route",
    "parse_agents",
    "parse_queues",
    "parse_schedule",
    "parse_schedule_next_status",
    "parse_schedule_status",
    "parse_schedules",
    "route",
]


def parse_agents(body: bytes) -> list[Agent]:
    """All agents in an /agents or /agent/{id} answer."""
    return stats.read(body, AGENTS)[0]


def parse_queues(body: bytes) -> list[Queue]:
    """All queues in a /queues or /queue/{id} answer."""
    return stats.read(body, QUEUES)[0]


def route(body: bytes, what: Literal["agents", "queues"]) -> Route:
    """Which way parse_agents or parse_queues reads this body (see `stats`).

    The fast ways must give exactly what the general ones give, and only pay off if real
    answers take them; tests feed bodies crafted for each way and check here that they did.
    """
    if what == "agents":
        return stats.read(body, AGENTS)[1]
    return stats.read(body, QUEUES)[1]


def parse_schedules(body: bytes) -> list[Schedule]:
    """All schedules in a /schedules or /schedulesbyname/{name} answer."""
    return schedules.schedules(body)


def parse_schedule(body: bytes) -> Schedule:
    """The one schedule of a /schedules/{id} answer."""
    found = schedules.schedules(body)
    if len(found) != 1:
        raise MalformedError(f"expected one schedule, got {len(found)}")
    return found[0]


def parse_schedule_status(body: bytes) -> ScheduleStatus:
    """A /schedules/{id}/status answer."""
    return schedules.status(body)


def parse_schedule_next_status(body: bytes) -> ScheduleNextStatus:
    """A /schedules/{id}/nextstatus answer: now, and what comes next and when."""
    return schedules.next_status(body)
