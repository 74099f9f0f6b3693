"""The worked examples of docs/schedules.md: the engine and the simulator give the same answers.

Overlapping intervals and the repeated hour of a fall-back are where the two used to differ.
Each example is one schedule and the instants the documentation's table lists, with the status
it gives there. Three checks of the same table: the engine, the simulator's evaluator (the
stand-in for 8x8's /status), and the simulator's /status and /nextstatus over real HTTP with the
schedules as the vcc client reads them from /api/provisioning/schedules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from wallboard.schedules.engine import evaluate, parse_status, status_label
from wallboard.simulator import schedules as sim
from wallboard.simulator.server import SimulatorServer
from wallboard.vcc.client import VccClient

LA, LONDON = "America/Los_Angeles", "Europe/London"
SUN, MON, SAT = 0, 1, 6


@dataclass(frozen=True)
class Example:
    """One row group of the documentation's tables: a schedule and (instant, expected) pairs."""

    id: str
    zone: str
    week_days: tuple[tuple[int, tuple[tuple[object, str, str], ...]], ...]
    checks: tuple[tuple[datetime, str], ...]
    exceptions: tuple[tuple[str, str, tuple[tuple[object, str, str], ...]], ...] = ()

    def simulator_schedule(self) -> sim.Schedule:
        def intervals(props):
            return tuple(sim.Interval(status, start, end) for status, start, end in props)

        return sim.Schedule(
            self.id, f"Example {self.id}", self.zone,
            tuple(sim.WeekDay(day, intervals(props)) for day, props in self.week_days),
            tuple(sim.Exception_(name, on, intervals(props)) for name, on, props in self.exceptions),
        )


def utc(month, day, hour, minute=0, year=2026):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def nov(day, hour, minute=0):
    """London in November is on GMT: these instants read the same on the wall clock."""
    return utc(11, day, hour, minute)


# Overlaps: Monday 16 and Sunday 15 November 2026, London (wall clock = UTC).
OVERLAPS = [
    Example("1", LONDON, ((MON, ((0, "08:00", "18:00"), ("CHOICE #2", "12:00", "13:00"))),),
            ((nov(16, 11), "OPEN"), (nov(16, 12, 30), "CHOICE #2"), (nov(16, 13), "OPEN"))),
    Example("2", LONDON, ((MON, (("CHOICE #2", "12:00", "13:00"), (0, "08:00", "18:00"))),),
            ((nov(16, 12, 30), "CHOICE #2"), (nov(16, 13), "OPEN"))),
    Example("3", LONDON, ((MON, ((0, "09:00", "17:00"), (-1, "09:00", "10:00"))),),
            ((nov(16, 9, 30), "CLOSED"), (nov(16, 10), "OPEN"))),
    Example("4", LONDON, ((MON, ((0, "08:00", "12:00"), ("CHOICE #1", "11:00", "14:00"))),),
            ((nov(16, 10), "OPEN"), (nov(16, 11, 30), "CHOICE #1"), (nov(16, 13), "CHOICE #1"), (nov(16, 14), "CLOSED"))),
    Example("5", LONDON, ((MON, ((0, "08:00", "18:00"),)), (MON, ((-1, "12:00", "13:00"),))),
            ((nov(16, 12, 30), "CLOSED"), (nov(16, 13), "OPEN"))),
    Example("6", LONDON, ((SUN, ((0, "22:00", "02:00"),)), (MON, (("CHOICE #3", "01:00", "03:00"),))),
            ((nov(16, 0, 30), "OPEN"), (nov(16, 1, 30), "CHOICE #3"), (nov(16, 2, 30), "CHOICE #3"), (nov(16, 3), "CLOSED"))),
    Example("7", LONDON, ((SUN, ((0, "20:00", "03:00"), ("CHOICE #1", "23:00", "01:00"))),),
            ((nov(15, 23, 30), "CHOICE #1"), (nov(16, 0, 30), "CHOICE #1"), (nov(16, 2), "OPEN"), (nov(16, 3), "CLOSED"))),
    Example("8", LONDON, (), ((nov(16, 12, 30), "CLOSED"), (nov(16, 15), "OPEN")),
            exceptions=(("Stocktake", "2026-11-16", ((0, "08:00", "18:00"), (-1, "12:00", "14:00"))),)),
]

# Fall back: Los Angeles, Sunday 1 November 2026, 02:00 PDT -> 01:00 PST at 09:00 UTC, so the
# wall clock reads 01:00-01:59 from 08:00 to 09:00 UTC (PDT) and again from 09:00 to 10:00 UTC (PST).
# London, Sunday 25 October 2026: 02:00 BST -> 01:00 GMT at 01:00 UTC.
# Spring forward: Los Angeles, Sunday 8 March 2026, 02:00 PST -> 03:00 PDT at 10:00 UTC.
DST = [
    Example("11", LA, ((SUN, ((0, "01:30", "03:00"),)),),
            ((utc(11, 1, 8, 10), "CLOSED"), (utc(11, 1, 8, 40), "OPEN"), (utc(11, 1, 9, 10), "CLOSED"),
             (utc(11, 1, 9, 40), "OPEN"), (utc(11, 1, 10, 59), "OPEN"), (utc(11, 1, 11), "CLOSED"))),
    Example("12", LA, ((SUN, ((0, "00:00", "01:30"),)),),
            ((utc(11, 1, 8, 10), "OPEN"), (utc(11, 1, 8, 40), "CLOSED"), (utc(11, 1, 9, 10), "OPEN"),
             (utc(11, 1, 9, 40), "CLOSED"))),
    Example("13", LA, ((SUN, ((0, "01:00", "04:00"),)),),
            ((utc(11, 1, 7, 59), "CLOSED"), (utc(11, 1, 8), "OPEN"), (utc(11, 1, 9, 30), "OPEN"),
             (utc(11, 1, 11, 59), "OPEN"), (utc(11, 1, 12), "CLOSED"))),
    Example("14", LA, ((SAT, ((0, "22:00", "01:30"),)),),
            ((utc(11, 1, 8, 10), "OPEN"), (utc(11, 1, 8, 40), "CLOSED"), (utc(11, 1, 9, 10), "OPEN"),
             (utc(11, 1, 9, 40), "CLOSED"))),
    Example("15", LA, ((SAT, (("CHOICE #1", "22:00", "06:00"),)), (SUN, ((0, "01:00", "01:30"),))),
            ((utc(11, 1, 7, 59), "CHOICE #1"), (utc(11, 1, 8, 10), "OPEN"), (utc(11, 1, 8, 40), "CHOICE #1"),
             (utc(11, 1, 9, 10), "OPEN"), (utc(11, 1, 9, 40), "CHOICE #1"), (utc(11, 1, 13, 59), "CHOICE #1"),
             (utc(11, 1, 14), "CLOSED"))),
    Example("16", LONDON, ((SUN, ((0, "01:30", "02:30"),)),),
            ((utc(10, 25, 0, 40), "OPEN"), (utc(10, 25, 1, 15), "CLOSED"), (utc(10, 25, 1, 40), "OPEN"),
             (utc(10, 25, 2, 30), "CLOSED"))),
    Example("17", LA, ((SUN, ((0, "02:30", "05:00"),)),),
            ((utc(3, 8, 9, 59), "CLOSED"), (utc(3, 8, 10), "OPEN"), (utc(3, 8, 11, 59), "OPEN"), (utc(3, 8, 12), "CLOSED"))),
    Example("18", LA, ((SUN, ((0, "02:00", "02:30"),)),),
            ((utc(3, 8, 9, 59), "CLOSED"), (utc(3, 8, 10), "CLOSED"), (utc(3, 8, 10, 20), "CLOSED"))),
]

EXAMPLES = OVERLAPS + DST


def as_api_dict(example: Example) -> dict:
    """The example in the docs/api-shapes.md shape, the engine's other input."""

    def props(intervals):
        return [{"status": s, "start_time": a, "end_time": b} for s, a, b in intervals]

    return {
        "id": example.id, "name": f"Example {example.id}", "time_zone": example.zone,
        "week_days": [{"day": day, "properties": props(p)} for day, p in example.week_days],
        "exceptions": [{"name": n, "date": d, "properties": props(p)} for n, d, p in example.exceptions],
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"example-{e.id}")
def test_it_gives_the_documented_status_in_every_worked_example(example):
    schedule = as_api_dict(example)
    got = [(at.isoformat(), evaluate(schedule, at, "UTC").label) for at, _ in example.checks]
    assert got == [(at.isoformat(), expected) for at, expected in example.checks]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"example-{e.id}")
def test_it_agrees_with_the_simulators_evaluator_in_every_worked_example(example):
    schedule, tenant_tz = example.simulator_schedule(), ZoneInfo("UTC")
    theirs = [(at.isoformat(), sim.status_label(sim.status_at(schedule, at, tenant_tz))) for at, _ in example.checks]
    ours = [(at.isoformat(), evaluate(as_api_dict(example), at, "UTC").label) for at, _ in example.checks]
    assert theirs == ours


@pytest.fixture(scope="module")
def served():
    """A simulator serving the examples' schedules, and those schedules as the vcc client reads them."""
    server = SimulatorServer(port=0, agents=1, queues=1, clock=lambda: utc(11, 16, 12).timestamp())
    server.schedules = [example.simulator_schedule() for example in EXAMPLES]
    base_url = server.start()
    with VccClient(base_url, "demo", "demo-token") as client:
        records = {record.id: record for record in client.schedules()}
    session = requests.Session()
    session.auth = ("demo", "demo-token")
    yield base_url, session, records
    session.close()
    server.stop()


def checks():
    return [(example, at) for example in EXAMPLES for at, _ in example.checks]


def answer(served, schedule_id: str, endpoint: str, at: datetime) -> dict:
    base_url, session, _ = served
    url = f"{base_url}/api/provisioning/schedules/{schedule_id}/{endpoint}.json"
    response = session.get(url, params={"utctime": int(at.timestamp() * 1000)}, timeout=30)
    response.raise_for_status()
    return response.json()


@pytest.mark.parametrize("example, at", checks(), ids=lambda v: v.id if isinstance(v, Example) else v.strftime("%m%dT%H%M"))
def test_it_agrees_with_the_simulators_status_endpoint(served, example, at):
    theirs = parse_status(answer(served, example.id, "status", at)["schedule-status"]["status"])
    ours = evaluate(served[2][example.id], at, "UTC")
    assert status_label(theirs) == ours.label == dict(example.checks)[at]


@pytest.mark.parametrize("example, at", checks(), ids=lambda v: v.id if isinstance(v, Example) else v.strftime("%m%dT%H%M"))
def test_it_agrees_with_the_simulators_next_status_endpoint(served, example, at):
    theirs = answer(served, example.id, "nextstatus", at)["schedule-next-status"]
    ours = evaluate(served[2][example.id], at, "UTC")
    assert parse_status(theirs["status"]) == ours.status
    if ours.next_change is None:  # nothing within our 8 days: the examples never change again
        assert theirs["next-change-utctime"] == -1
    else:
        assert theirs["next-change-utctime"] == int(ours.next_change.timestamp() * 1000)
        assert parse_status(theirs["next-status"]) == ours.next_status
