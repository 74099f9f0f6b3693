"""Agreement with the simulator's independent evaluator, over simulated weeks.

The simulator (wallboard/simulator/) computes /status with its own minute look-up. Two checks:
- its evaluator module directly, every 15 minutes across several weeks chosen for their
  edges (both DST changes in the US and the UK, Christmas, New Year, July 4th), cheap enough
  to be dense;
- the real HTTP server: the schedules as the vcc client reads them from
  /api/provisioning/schedules, and /status?utctime=MS at every hour of a week and a minute
  either side of every change, plus /nextstatus every twelve hours.

Overlapping intervals and the repeated hour of a fall-back, which the sample schedules do not
exercise, have their own worked examples in test_schedules_agreement.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from wallboard.schedules.engine import evaluate, parse_status

sim_schedules = pytest.importorskip("wallboard.simulator.schedules")

TENANT_TZ = "America/Denver"  # distinct from every sample zone, so a fallback shows
WEEKS = [
    date(2026, 3, 5),  # US spring forward on the 8th
    date(2026, 3, 26),  # UK spring forward on the 29th
    date(2026, 7, 1),  # Independence Day
    date(2026, 10, 22),  # UK fall back on the 25th
    date(2026, 10, 29),  # US fall back on 1 November
    date(2026, 12, 21),  # Christmas Eve, Christmas, Boxing Day
    date(2026, 12, 28),  # New Year's Day
    date(2027, 1, 22),  # Australia Day
]


def as_api_dict(schedule) -> dict:
    """A simulator Schedule in the docs/api-shapes.md shape."""

    def props(intervals):
        return [{"status": iv.status, "start_time": iv.start, "end_time": iv.end} for iv in intervals]

    return {
        "id": schedule.id,
        "name": schedule.name,
        "time_zone": schedule.time_zone or None,
        "week_days": [{"day": wd.day, "properties": props(wd.properties)} for wd in schedule.week_days],
        "exceptions": [{"name": e.name, "date": e.date, "properties": props(e.properties)} for e in schedule.exceptions],
    }


def week_instants(first_day: date, step_minutes: int):
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    return [start + timedelta(minutes=m) for m in range(0, 7 * 1440, step_minutes)]


def change_instants(schedule, first_day: date) -> list[datetime]:
    """Every change the engine sees in the week, and a minute either side of it."""
    at = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    end, found = at + timedelta(days=7), []
    while True:
        change = evaluate(schedule, at, TENANT_TZ).next_change
        if change is None or change >= end:
            return found
        found += [change - timedelta(minutes=1), change, change + timedelta(minutes=1)]
        at = change


@pytest.mark.parametrize("first_day", WEEKS, ids=str)
def test_it_agrees_with_the_simulator_evaluator_every_quarter_hour(first_day):
    tenant = ZoneInfo(TENANT_TZ)
    disagreements = []
    for schedule in sim_schedules.sample_schedules(first_day):
        as_dict = as_api_dict(schedule)
        for at in week_instants(first_day, 15) + change_instants(as_dict, first_day):
            theirs = parse_status(sim_schedules.status_at(schedule, at, tenant))
            ours = evaluate(as_dict, at, TENANT_TZ).status
            if theirs != ours:
                disagreements.append((schedule.id, at.isoformat(), theirs, ours))
    assert disagreements == []


# Over HTTP ------------------------------------------------------------------------------------


@pytest.fixture(params=[None, date(2026, 10, 29)], ids=["this-week", "us-fall-back"])
def simulator(request):
    server_module = pytest.importorskip("wallboard.simulator.server")
    first_day = request.param or datetime.now(ZoneInfo(TENANT_TZ)).date()
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=ZoneInfo(TENANT_TZ)).timestamp()
    sim = server_module.SimulatorServer(port=0, agents=1, queues=1, tenant_tz=TENANT_TZ, clock=lambda: start)
    base_url = sim.start()
    yield base_url, first_day
    sim.stop()


def fetch_schedules(base_url: str) -> list:
    """The schedules as the poller will have them: vcc records if the client exists, else JSON."""
    try:
        from wallboard.vcc.client import VccClient
    except ImportError:
        body = requests.get(f"{base_url}/api/provisioning/schedules.json", auth=("demo", "demo-token"), timeout=10)
        body.raise_for_status()
        found = body.json()["schedules"]["schedule"]
        return found if isinstance(found, list) else [found]
    with VccClient(base_url, "demo", "demo-token") as client:
        return client.schedules()


def field(schedule, name):
    return schedule[name] if isinstance(schedule, dict) else getattr(schedule, name)


def test_it_agrees_with_the_simulators_status_endpoint_over_a_week(simulator):
    base_url, first_day = simulator
    schedules = fetch_schedules(base_url)
    assert len(schedules) >= 5
    session = requests.Session()
    session.auth = ("demo", "demo-token")
    disagreements, checked = [], 0
    for schedule in schedules:
        url = f"{base_url}/api/provisioning/schedules/{field(schedule, 'id')}/status.json"
        for at in week_instants(first_day, 60) + change_instants(schedule, first_day):
            answer = session.get(url, params={"utctime": int(at.timestamp() * 1000)}, timeout=10)
            answer.raise_for_status()
            theirs = parse_status(answer.json()["schedule-status"]["status"])
            ours = evaluate(schedule, at, TENANT_TZ).status
            checked += 1
            if theirs != ours:
                disagreements.append((field(schedule, "id"), at.isoformat(), theirs, ours))
    assert disagreements == [] and checked > 7 * 24 * 5


def test_it_agrees_with_the_simulators_next_status_endpoint(simulator):
    base_url, first_day = simulator
    session = requests.Session()
    session.auth = ("demo", "demo-token")
    for schedule in fetch_schedules(base_url):
        url = f"{base_url}/api/provisioning/schedules/{field(schedule, 'id')}/nextstatus.json"
        for at in week_instants(first_day, 12 * 60):
            answer = session.get(url, params={"utctime": int(at.timestamp() * 1000)}, timeout=30)
            answer.raise_for_status()
            theirs = answer.json()["schedule-next-status"]
            ours = evaluate(schedule, at, TENANT_TZ)
            assert parse_status(theirs["status"]) == ours.status
            if ours.next_change is not None:  # within our 8 days; the simulator looks 15
                assert theirs["next-change-utctime"] == int(ours.next_change.timestamp() * 1000)
                assert parse_status(theirs["next-status"]) == ours.next_status
