"""Time zones: IANA and POSIX-style names work; missing or unknown ones fall back to the tenant's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wallboard.schedules.engine import evaluate, resolve_zone

NINE_TO_FIVE = [{"day": d, "properties": [{"status": 0, "start_time": "09:00", "end_time": "17:00"}]} for d in range(1, 6)]


def schedule(zone):
    return {"id": "7", "name": "Sales", "time_zone": zone, "week_days": NINE_TO_FIVE, "exceptions": []}


def test_it_resolves_an_iana_zone_without_fallback():
    zone, fallback = resolve_zone("America/Los_Angeles", "Europe/London")
    assert (zone.key, fallback) == ("America/Los_Angeles", False)


def test_it_resolves_the_posix_style_pst8pdt():
    zone, fallback = resolve_zone("PST8PDT", "Europe/London")
    assert not fallback
    # 2026-06-01 16:30 UTC is 09:30 PDT: open, like America/Los_Angeles.
    state = evaluate(schedule("PST8PDT"), datetime(2026, 6, 1, 16, 30, tzinfo=UTC), "Europe/London")
    assert (state.status, state.zone, state.zone_fallback) == (0, "PST8PDT", False)


def test_it_accepts_a_posix_leading_colon():
    zone, fallback = resolve_zone(":America/New_York", "UTC")
    assert (zone.key, fallback) == ("America/New_York", False)


@pytest.mark.parametrize("name", ["PST8DT", "Garbage/Zone", "", "   ", None, "../../etc/passwd", "America", 42])
def test_it_falls_back_to_the_tenant_zone_for_unusable_names(name):
    zone, fallback = resolve_zone(name, "Europe/London")
    assert (zone.key, fallback) == ("Europe/London", True)


@pytest.mark.parametrize("name", ["PST8DT", "Garbage/Zone", "", None])
def test_it_evaluates_in_the_tenant_zone_and_reports_the_fallback(name):
    # 08:30 UTC on a Monday is 09:30 in London (BST) but 01:30 in Los Angeles.
    state = evaluate(schedule(name), datetime(2026, 6, 1, 8, 30, tzinfo=UTC), "Europe/London")
    assert (state.status, state.zone, state.zone_fallback) == (0, "Europe/London", True)
    assert state.to_dict()["zone_fallback"] is True


def test_it_uses_utc_when_even_the_tenant_zone_is_unusable():
    zone, fallback = resolve_zone("PST8DT", "Not/AZone")
    assert fallback and zone.utcoffset(datetime(2026, 1, 1)).total_seconds() == 0
    state = evaluate(schedule(None), datetime(2026, 6, 1, 9, 30, tzinfo=UTC), "")
    assert (state.status, state.zone, state.zone_fallback) == (0, "UTC", True)
