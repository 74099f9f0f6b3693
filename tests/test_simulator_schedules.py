"""/status and /nextstatus from the sample schedules, with utctime and offset."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from wallboard.simulator.server import SimulatorServer

# Wednesday 4 March 2026; the sample's "soon" exceptions fall on 5, 6, 7 and 8 March.
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def ms(*args) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture(scope="module")
def sim():
    server = SimulatorServer(port=0, agents=5, queues=2, seed=1, clock=lambda: NOW.timestamp())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def paris():
    server = SimulatorServer(port=0, agents=5, queues=2, seed=1, clock=lambda: NOW.timestamp(), tenant_tz="Europe/Paris")
    server.start()
    yield server
    server.stop()


def status(sim, schedule_id: str, utctime: int | None = None, **params):
    if utctime is not None:
        params["utctime"] = utctime
    r = requests.get(f"{sim.base_url}/api/provisioning/schedules/{schedule_id}/status.json", params=params,
                     auth=("demo", "demo-token"), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["schedule-status"]["status"]


def next_status(sim, schedule_id: str, utctime: int | None = None) -> dict:
    params = {} if utctime is None else {"utctime": utctime}
    r = requests.get(f"{sim.base_url}/api/provisioning/schedules/{schedule_id}/nextstatus.json", params=params,
                     auth=("demo", "demo-token"), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["schedule-next-status"]


@pytest.mark.parametrize("when, expected", [
    (ms(2026, 3, 4, 17, 0), 0),  # Wednesday 12:00 in New York
    (ms(2026, 3, 4, 12, 59), -1),  # 07:59
    (ms(2026, 3, 4, 13, 0), 0),  # 08:00: start is inclusive
    (ms(2026, 3, 5, 1, 0), -1),  # 20:00: end is exclusive
    (ms(2026, 3, 7, 14, 0), 0),  # Saturday 09:00
    (ms(2026, 3, 8, 15, 0), -1),  # Sunday: no rules
    (ms(2026, 3, 6, 14, 30), -1),  # Friday 09:30, "Team training" exception opens at 10:00
    (ms(2026, 3, 6, 15, 0), 0),
    (ms(2026, 12, 25, 17, 0), -1),  # Christmas Day (a Friday)
    (ms(2026, 12, 24, 16, 0), 0),  # Christmas Eve 11:00, open until noon
    (ms(2026, 12, 24, 18, 0), -1),
    (ms(2026, 1, 1, 17, 0), -1),  # New Year's Day, an exception without intervals
])
def test_it_evaluates_support_hours(sim, when, expected):
    assert status(sim, "101", when) == expected


@pytest.mark.parametrize("when, expected", [
    (ms(2026, 3, 4, 17, 29), 0),
    (ms(2026, 3, 4, 17, 30), "CHOICE #1"),  # a second week-day element for the same day
    (ms(2026, 3, 4, 19, 0), -1),
    (ms(2026, 3, 7, 11, 0), -1),  # Saturday, bank holiday exception
    (ms(2026, 3, 14, 11, 0), "CHOICE #2"),
])
def test_it_evaluates_choice_intervals(sim, when, expected):
    assert status(sim, "102", when) == expected


@pytest.mark.parametrize("when, expected", [
    (ms(2026, 3, 4, 5, 0), 0),  # Tuesday night's shift, 23:00 in Chicago (UTC-6)
    (ms(2026, 3, 4, 11, 59), 0),  # Wednesday 05:59, spill-over from Tuesday
    (ms(2026, 3, 4, 12, 0), -1),
    (ms(2026, 3, 5, 7, 0), 0),  # Thursday 01:00: Wednesday's spill-over still applies on the exception date
    (ms(2026, 3, 5, 13, 0), -1),  # Thursday 07:00
    (ms(2026, 3, 5, 17, 0), 0),  # Thursday 11:00, the exception's own interval
    (ms(2026, 3, 6, 5, 0), -1),  # Thursday 23:00: the exception replaced Thursday's night
    (ms(2026, 3, 6, 7, 0), -1),  # Friday 01:00: no spill-over from Thursday's exception
    (ms(2026, 3, 7, 5, 0), 0),  # Friday 23:00
])
def test_it_evaluates_midnight_spanning_intervals(sim, when, expected):
    assert status(sim, "103", when) == expected


@pytest.mark.parametrize("when, expected", [
    (ms(2026, 3, 5, 1, 0), "CHOICE #3"),  # Wednesday 17:00 PST
    (ms(2026, 3, 5, 7, 59), "CHOICE #3"),  # 23:59: "24:00" ends at midnight
    (ms(2026, 3, 5, 8, 0), -1),
    (ms(2026, 3, 8, 20, 0), 0),  # Sunday 13:00 PDT (DST began that morning), "00:00" end
    (ms(2026, 3, 9, 6, 59), 0),  # Sunday 23:59 PDT
    (ms(2026, 3, 9, 7, 0), -1),
])
def test_it_evaluates_a_posix_zone(sim, when, expected):
    assert status(sim, "104", when) == expected


def test_it_uses_the_tenant_zone_for_an_unknown_zone(sim, paris):
    eight_utc = ms(2026, 3, 4, 8, 0)
    assert status(sim, "106", eight_utc) == 0  # UTC tenant: 08:00
    assert status(paris, "106", eight_utc - 60_000) == 0  # Paris tenant: 08:59
    assert status(sim, "106", eight_utc - 60_000) == -1
    assert status(paris, "106", ms(2026, 3, 4, 16, 0)) == -1  # 17:00 in Paris


def test_it_closes_for_an_exception_interval(sim):
    assert status(sim, "105", ms(2026, 3, 7, 20, 59)) == 0  # 8 March 02:29 in Kolkata
    assert status(sim, "105", ms(2026, 3, 7, 21, 0)) == -1  # 02:30
    assert status(sim, "105", ms(2026, 3, 7, 22, 30)) == 0  # 04:00
    assert next_status(sim, "105", ms(2026, 3, 7, 20, 0)) == {
        "status": 0, "next-status": -1, "next-change-utctime": ms(2026, 3, 7, 21, 0),
    }


def test_it_answers_next_status(sim):
    assert next_status(sim, "101", ms(2026, 3, 4, 17, 0)) == {
        "status": 0, "next-status": -1, "next-change-utctime": ms(2026, 3, 5, 1, 0),
    }
    assert next_status(sim, "102", ms(2026, 3, 4, 17, 0)) == {
        "status": 0, "next-status": "CHOICE #1", "next-change-utctime": ms(2026, 3, 4, 17, 30),
    }


def test_it_agrees_with_itself_on_every_next_change(sim):
    for schedule in sim.schedules:
        for when in (ms(2026, 3, 4, 10, 17), ms(2026, 3, 7, 23, 3), ms(2026, 12, 24, 20, 0)):
            answer = next_status(sim, schedule.id, when)
            change = answer["next-change-utctime"]
            assert status(sim, schedule.id, when) == answer["status"]
            if change == -1:  # nothing changes within the scan horizon (the 24x7 schedule)
                assert answer["next-status"] == answer["status"]
                continue
            assert status(sim, schedule.id, change - 60_000) == answer["status"]
            assert status(sim, schedule.id, change) == answer["next-status"] != answer["status"]


def test_it_adds_the_offset(sim):
    base = ms(2026, 3, 4, 12, 30)  # 07:30 in New York: closed; half an hour later open
    assert status(sim, "101", base) == -1
    assert status(sim, "101", base, offset=1800) == 0
    assert status(sim, "101", base + 1_800_000) == 0


def test_it_applies_the_offset_to_the_simulated_now(sim):
    # Now is 05:00 in New York (closed); 3 h later it is 08:00 (open).
    assert status(sim, "101") == -1
    assert status(sim, "101", offset=3 * 3600) == 0


def test_it_accepts_the_vendors_glued_parameters(sim):
    url = f"{sim.base_url}/api/provisioning/schedules/101/status.json?utctime={ms(2026, 3, 4, 12, 30)}offset=1800"
    assert requests.get(url, auth=("demo", "demo-token"), timeout=10).json()["schedule-status"]["status"] == 0


def test_it_refuses_a_bad_utctime(sim):
    r = requests.get(f"{sim.base_url}/api/provisioning/schedules/101/status?utctime=soon",
                     auth=("demo", "demo-token"), timeout=10)
    assert r.status_code == 400


def test_it_serves_choice_status_in_xml(sim):
    r = requests.get(f"{sim.base_url}/api/provisioning/schedules/102/status", params={"utctime": ms(2026, 3, 4, 18, 0)},
                     auth=("demo", "demo-token"), timeout=10)
    assert b"<status>CHOICE #1</status>" in r.content
