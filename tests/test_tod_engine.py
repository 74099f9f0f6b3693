"""ContactNow time-of-day evaluation against a brute-force evaluator written here from the rules.

The brute force shares no code with wallboard.schedules.tod: it walks UTC minutes one by one,
reads the local wall clock, and applies the rules of docs/schedules.md ("ContactNow
time-of-day policies") to that reading: highest rule number first (the later listed on a tie),
year/month/date 0 = any, days, ranges ending at midnight or crossing it, else the default.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wallboard.schedules import tod

ZONES = ["UTC", "Europe/London", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ACTIONS = ["queue", "voicemail", "hangup", "jump:301", "jump:302"]
MINUTE = timedelta(minutes=1)
HORIZON = timedelta(days=8)


# The brute force ----------------------------------------------------------------------------


def bf_minutes(text):
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def bf_day_ok(rule, day):
    return (
        rule["year"] in (0, day.year)
        and rule["month"] in (0, day.month)
        and rule["date"] in (0, day.day)
        and (not rule["days"] or DAYS[day.weekday()] in rule["days"])
    )


def bf_action(default, rules, local):
    """The action at a local wall-clock reading."""
    day, minute = local.date(), local.hour * 60 + local.minute
    best = None
    for position, rule in enumerate(rules):
        for start_text, end_text in rule["ranges"]:
            start, end = bf_minutes(start_text) % 1440, bf_minutes(end_text) % 1440
            if end == 0:
                end = 1440
            if start < end:
                hit = bf_day_ok(rule, day) and start <= minute < end
            elif end < start:
                hit = (bf_day_ok(rule, day) and minute >= start) or (
                    bf_day_ok(rule, day - timedelta(days=1)) and minute < end
                )
            else:
                hit = False
            if hit and (best is None or (rule["rule"], position) >= best[0]):
                best = ((rule["rule"], position), rule["action"])
    return (best[1], best[0][0]) if best else (default, None)


def bf_outcome(action):
    if action in ("voicemail", "hangup"):
        return ("closed", None)
    if action.startswith("jump:"):
        return ("redirect", action[5:])
    return ("open", None)


def bf_state(default, rules, zone, at):
    """(action, rule, next change) by walking UTC minutes."""
    zone = ZoneInfo(zone)
    action, rule = bf_action(default, rules, at.astimezone(zone))
    now = bf_outcome(action)
    t = at.replace(second=0, microsecond=0) + MINUTE
    while t <= at + HORIZON:
        if bf_outcome(bf_action(default, rules, t.astimezone(zone))[0]) != now:
            return action, rule, t
        t += MINUTE
    return action, rule, None


# Generators ---------------------------------------------------------------------------------

times = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 24), st.sampled_from([0, 1, 15, 30, 59]))


@st.composite
def rules_and_instant(draw):
    zone = draw(st.sampled_from(ZONES))
    # Around DST changes of either hemisphere, and an ordinary day.
    day = draw(st.sampled_from([date(2026, 3, 8), date(2026, 3, 29), date(2026, 4, 5), date(2026, 10, 4),
                                date(2026, 10, 25), date(2026, 11, 1), date(2026, 12, 24), date(2027, 1, 1)]))
    at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        minutes=draw(st.integers(-1440 * 2, 1440 * 2)), seconds=draw(st.integers(0, 59))
    )
    rules = []
    for _ in range(draw(st.integers(0, 5))):
        ranges = []
        for _ in range(draw(st.integers(1, 2))):
            start, end = draw(times), draw(times)
            if start == "24:00" or (start[:2] == "24"):
                start = "00:00"
            if end[:2] == "24":
                end = "24:00"
            ranges.append([start, end])
        dated = draw(st.booleans())
        rules.append({
            "rule": draw(st.integers(1, 4)),
            "year": draw(st.sampled_from([0, day.year])) if dated else 0,
            "month": draw(st.sampled_from([0, day.month])) if dated else 0,
            "date": draw(st.sampled_from([0, day.day, (day + timedelta(days=1)).day])) if dated else 0,
            "days": draw(st.lists(st.sampled_from(DAYS), unique=True, max_size=7)),
            "ranges": ranges,
            "action": draw(st.sampled_from(ACTIONS)),
        })
    default = draw(st.sampled_from(ACTIONS))
    return default, rules, zone, at


# Properties ---------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules_and_instant())
def test_it_agrees_with_the_brute_force(case):
    default, rules, zone, at = case
    action, rule, change = bf_state(default, rules, zone, at)
    state = tod.evaluate(default, rules, at, zone)
    assert (state.action, state.rule) == (action, rule)
    assert state.next_change == change
    assert state.state == bf_outcome(action)[0]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules_and_instant())
def test_it_previews_bands_that_agree_with_the_brute_force(case):
    default, rules, zone, at = case
    start = at.replace(second=0, microsecond=0)
    end = start + timedelta(days=2)
    found = tod.bands(default, rules, start, end, zone)
    assert found[0].start == start and found[-1].end == end
    for band, following in zip(found, found[1:], strict=False):
        assert band.end == following.start
    for band in found:
        t = band.start
        while t < band.end:
            assert bf_action(default, rules, t.astimezone(ZoneInfo(zone))) == (band.action, band.rule), t
            t += timedelta(minutes=7)


# Examples -----------------------------------------------------------------------------------

WEEKDAYS = {"rule": 1, "year": 0, "month": 0, "date": 0, "days": DAYS[:5], "ranges": [["09:00", "17:00"]], "action": "queue"}


def at(text):
    return datetime.fromisoformat(text)


def test_it_applies_the_default_when_no_rule_matches():
    state = tod.evaluate("voicemail", [WEEKDAYS], at("2026-12-05T12:00:00+00:00"), "UTC")  # a Saturday
    assert (state.state, state.action, state.rule) == ("closed", "voicemail", None)
    assert state.next_change == at("2026-12-07T09:00:00+00:00")
    assert state.next_state == "open"


def test_it_lets_a_higher_numbered_dated_rule_close_a_holiday():
    holiday = {"rule": 9, "year": 2026, "month": 12, "date": 25, "days": [], "ranges": [["00:00", "24:00"]], "action": "hangup"}
    state = tod.evaluate("voicemail", [WEEKDAYS, holiday], at("2026-12-25T10:00:00+00:00"), "UTC")
    assert (state.state, state.rule) == ("closed", 9)
    assert state.next_change == at("2026-12-28T09:00:00+00:00")
    assert tod.evaluate("voicemail", [WEEKDAYS, holiday], at("2027-12-24T10:00:00+00:00"), "UTC").rule == 1


def test_it_runs_a_range_ending_at_midnight_to_the_end_of_the_day():
    late = {**WEEKDAYS, "ranges": [["18:0", "0:0"]]}
    assert tod.evaluate("hangup", [late], at("2026-12-01T23:59:00+00:00"), "UTC").state == "open"
    state = tod.evaluate("hangup", [late], at("2026-12-01T19:00:00+00:00"), "UTC")
    assert state.next_change == at("2026-12-02T00:00:00+00:00")


def test_it_carries_a_range_crossing_midnight_into_the_next_day():
    night = {**WEEKDAYS, "days": ["fri"], "ranges": [["22:00", "06:00"]], "action": "jump:77"}
    state = tod.evaluate("queue", [night], at("2026-12-05T03:00:00+00:00"), "UTC")  # Saturday 03:00
    assert (state.state, state.target, state.rule) == ("redirect", "77", 1)
    assert state.next_change == at("2026-12-05T06:00:00+00:00")
    assert tod.evaluate("queue", [night], at("2026-12-04T03:00:00+00:00"), "UTC").state == "open"  # Friday 03:00


def test_it_counts_voicemail_to_hangup_as_no_change():
    rules = [{**WEEKDAYS, "ranges": [["09:00", "12:00"]], "action": "voicemail"},
             {**WEEKDAYS, "rule": 2, "ranges": [["12:00", "13:00"]], "action": "queue"}]
    state = tod.evaluate("hangup", rules, at("2026-12-01T08:00:00+00:00"), "UTC")
    assert state.next_change == at("2026-12-01T12:00:00+00:00")
    assert state.next_action == "queue"


def test_it_follows_the_wall_clock_across_a_dst_change():
    # London springs forward at 01:00 UTC on 2026-03-29: 09:00 local is 08:00 UTC from then on.
    state = tod.evaluate("voicemail", [{**WEEKDAYS, "days": DAYS}], at("2026-03-28T20:00:00+00:00"), "Europe/London")
    assert state.next_change == at("2026-03-29T08:00:00+00:00")


def test_it_takes_a_jump_target_and_unknown_actions_as_open():
    assert tod.action_target("jump:123") == "123"
    assert tod.action_state("JUMP:5") == "redirect"
    assert tod.action_state("transfer") == "open"


def test_it_refuses_a_naive_instant_and_bad_times():
    with pytest.raises(ValueError):
        tod.evaluate("queue", [], datetime(2026, 1, 1), "UTC")
    for bad in ("25:00", "9:60", "24:01", "nine"):
        with pytest.raises(ValueError):
            tod.parse_time(bad)
    assert tod.parse_time("14:0") == 840
