"""The schedule rules: intervals, midnight spans, ends at 00:00/24:00, overlaps, exceptions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from wallboard.schedules.engine import compiled, evaluate, local_status_dict

# 2026-06-01 is a Monday; the schedules below are in UTC so wall time = UTC.
MONDAY = datetime(2026, 6, 1, tzinfo=UTC)


def at(day_offset, hh, mm=0):
    return MONDAY + timedelta(days=day_offset, hours=hh, minutes=mm)


def prop(status, start, end):
    return {"status": status, "start_time": start, "end_time": end}


def sched(week_days=(), exceptions=(), zone="UTC"):
    return {"id": "1", "name": "t", "time_zone": zone, "week_days": list(week_days), "exceptions": list(exceptions)}


def day(n, *props):
    return {"day": n, "properties": list(props)}


def status(schedule, when):
    return evaluate(schedule, when, "UTC").status


def test_it_is_open_inside_and_closed_outside_an_interval():
    s = sched([day(1, prop(0, "09:00", "17:00"))])
    assert [status(s, at(0, h)) for h in (8, 9, 16, 17)] == [-1, 0, 0, -1]


def test_it_treats_intervals_as_start_inclusive_end_exclusive():
    s = sched([day(1, prop(0, "09:00", "17:00"))])
    assert status(s, at(0, 8, 59)) == -1
    assert status(s, at(0, 16, 59) + timedelta(seconds=59)) == 0
    assert status(s, at(0, 17)) == -1


def test_it_counts_day_zero_as_sunday():
    s = sched([day(0, prop(0, "09:00", "17:00"))])
    assert status(s, at(-1, 10)) == 0  # Sunday 2026-05-31
    assert status(s, at(0, 10)) == -1  # Monday


def test_it_spans_midnight_when_the_end_is_before_the_start():
    s = sched([day(1, prop(0, "22:00", "06:00"))])
    assert [status(s, at(0, 21)), status(s, at(0, 23)), status(s, at(1, 5, 59)), status(s, at(1, 6))] == [-1, 0, 0, -1]
    state = evaluate(s, at(0, 23), "UTC")
    assert state.next_change == at(1, 6) and state.next_status == -1


@pytest.mark.parametrize("end", ["00:00", "24:00"])
def test_it_reads_an_end_of_midnight_as_the_end_of_the_day(end):
    s = sched([day(1, prop(0, "18:00", end))])
    assert [status(s, at(0, 23, 59)), status(s, at(1, 0))] == [0, -1]


def test_it_reads_00_00_to_00_00_as_the_whole_day():
    s = sched([day(1, prop(0, "00:00", "00:00"))])
    assert [status(s, at(0, 0)), status(s, at(0, 23, 59)), status(s, at(1, 0))] == [0, 0, -1]


def test_it_ignores_an_empty_interval():
    s = sched([day(1, prop(0, "08:00", "08:00"))])
    assert status(s, at(0, 8)) == -1


def test_it_merges_adjacent_intervals_of_the_same_status_in_next_change():
    s = sched([day(1, prop(0, "09:00", "12:00"), prop(0, "12:00", "17:00"))])
    assert evaluate(s, at(0, 10), "UTC").next_change == at(0, 17)


def test_it_lets_the_interval_that_starts_latest_win_an_overlap():
    s = sched([day(1, prop(0, "08:00", "18:00"), prop("CHOICE #2", "12:00", "13:00"))])
    assert [status(s, at(0, 11)), status(s, at(0, 12, 30)), status(s, at(0, 13))] == [0, 2, 0]
    state = evaluate(s, at(0, 10), "UTC")
    assert (state.next_change, state.next_status) == (at(0, 12), 2)


def test_it_breaks_a_tie_in_start_by_the_later_definition():
    s = sched([day(1, prop(0, "09:00", "17:00")), day(1, prop(-1, "09:00", "12:00"))])
    assert [status(s, at(0, 10)), status(s, at(0, 12))] == [-1, 0]


def test_it_lets_today_take_over_from_yesterdays_spill_over():
    s = sched([day(1, prop("CHOICE #1", "20:00", "04:00")), day(2, prop(0, "02:00", "10:00"))])
    assert [status(s, at(1, 1)), status(s, at(1, 2)), status(s, at(1, 5))] == [1, 0, 0]


def test_it_closes_all_day_for_an_exception_without_properties():
    s = sched([day(d, prop(0, "00:00", "24:00")) for d in range(7)], [{"name": "Founders Day", "date": "2026-06-02", "properties": []}])
    state = evaluate(s, at(1, 12), "UTC")
    assert (state.status, state.exception) == (-1, "Founders Day")
    assert state.next_change == at(2, 0)
    assert evaluate(s, at(0, 12), "UTC").next_change == at(1, 0)


def test_it_applies_an_exceptions_special_hours_instead_of_the_week_day():
    s = sched([day(2, prop(0, "09:00", "17:00"))], [{"name": "Short day", "date": "2026-06-02", "properties": [prop(0, "10:00", "14:00")]}])
    assert [status(s, at(1, 9, 30)), status(s, at(1, 10)), status(s, at(1, 14))] == [-1, 0, -1]
    assert evaluate(s, at(1, 9, 30), "UTC").exception == "Short day"


def test_it_names_an_exception_by_its_date_when_it_has_no_name():
    s = sched([], [{"name": "", "date": "06/02/2026", "properties": [prop(0, "10:00", "14:00")]}])
    assert evaluate(s, at(1, 11), "UTC").exception == "2026-06-02"


def test_it_keeps_the_previous_days_spill_over_into_an_exception_date():
    # Monday night shift 20:00-02:00; Tuesday is an exception with its own hours from 10:00.
    s = sched([day(1, prop(0, "20:00", "02:00"))], [{"name": "Training", "date": "2026-06-02", "properties": [prop(1, "10:00", "12:00")]}])
    spill = evaluate(s, at(1, 1), "UTC")
    assert (spill.status, spill.exception) == (0, None)
    assert (spill.next_change, spill.next_status) == (at(1, 2), -1)
    after = evaluate(s, at(1, 3), "UTC")
    assert (after.status, after.exception) == (-1, "Training")


def test_it_cuts_the_spill_over_at_midnight_for_a_closed_all_day_exception():
    s = sched([day(1, prop(0, "20:00", "02:00"))], [{"name": "Holiday", "date": "2026-06-02", "properties": []}])
    assert [status(s, at(0, 23, 59)), status(s, at(1, 0)), status(s, at(1, 1))] == [0, -1, -1]


def test_it_lets_an_exceptions_own_interval_spill_into_the_next_day():
    s = sched([], [{"name": "Launch night", "date": "2026-06-02", "properties": [prop(0, "22:00", "03:00")]}])
    state = evaluate(s, at(2, 1), "UTC")
    assert (state.status, state.exception) == (0, "Launch night")


def test_it_announces_a_coming_exception_in_next_change():
    s = sched([day(d, prop(0, "09:00", "17:00")) for d in range(1, 6)], [{"name": "Xmas", "date": "2026-12-25", "properties": []}])
    thursday_evening = datetime(2026, 12, 24, 18, tzinfo=UTC)
    assert evaluate(s, thursday_evening, "UTC").next_change == datetime(2026, 12, 28, 9, tzinfo=UTC)


def test_it_says_none_when_nothing_changes_within_eight_days():
    always = sched([day(d, prop(0, "00:00", "24:00")) for d in range(7)])
    state = evaluate(always, at(0, 12), "UTC")
    assert (state.status, state.next_change, state.next_status) == (0, None, None)
    never = sched()
    assert evaluate(never, at(0, 12), "UTC").to_dict()["next_change"] is None


def test_it_looks_at_most_eight_days_ahead():
    s = sched([], [{"name": "Far", "date": "2026-06-09", "properties": [prop(0, "12:00", "13:00")]}])
    assert evaluate(s, at(0, 12), "UTC").next_change == at(8, 12)
    assert evaluate(s, at(0, 11, 59), "UTC").next_change is None


def test_it_skips_unusable_parts_and_keeps_the_rest():
    s = sched(
        [
            day(1, prop("MAYBE", "09:00", "17:00"), prop(0, "9am", "5pm"), prop(0, "25:00", "26:00")),
            day(7, prop(0, "00:00", "24:00")),
            day("2", prop(" Choice #4 ", "9:0", "17:00:00")),
            day("Wednesday", prop("-1", "08:00", "8:00 PM")),
        ],
        [{"name": "Bad", "date": "someday", "properties": []}],
    )
    assert status(s, at(0, 10)) == -1  # all of Monday's properties were unusable
    assert status(s, at(1, 10)) == 4
    # Wednesday's CLOSED 08:00-20:00 changes nothing: the next opening is next Tuesday.
    assert status(s, at(2, 19, 59)) == -1 and evaluate(s, at(2, 10), "UTC").next_change == at(8, 9)
    assert len(compiled(s, "UTC").rules.problems) == 5


def test_it_refuses_a_naive_instant():
    with pytest.raises(ValueError):
        evaluate(sched(), datetime(2026, 6, 1, 12), "UTC")


def test_it_accepts_non_utc_instants():
    s = sched([day(1, prop(0, "09:00", "17:00"))])
    from zoneinfo import ZoneInfo

    assert status(s, datetime(2026, 6, 1, 11, tzinfo=ZoneInfo("Europe/Paris"))) == 0  # 09:00 UTC


@dataclass
class Prop:
    status: int
    start_time: str
    end_time: str


@dataclass
class WeekDay:
    day: int
    properties: list


@dataclass
class Exc:
    name: str
    date: str
    properties: list = field(default_factory=list)


@dataclass
class Record:
    id: str
    name: str
    time_zone: str | None
    week_days: list
    exceptions: list


def test_it_accepts_a_record_object_and_a_dict_alike():
    record = Record("9", "Support", "America/Los_Angeles", [WeekDay(1, [Prop(0, "08:00", "17:00")])], [Exc("Day off", "2026-06-08")])
    as_dict = {
        "id": "9", "name": "Support", "time_zone": "America/Los_Angeles",
        "week_days": [{"day": 1, "properties": [prop(0, "08:00", "17:00")]}],
        "exceptions": [{"name": "Day off", "date": "2026-06-08", "properties": []}],
    }
    for when in (at(0, 16), at(1, 0), at(7, 16)):
        assert evaluate(record, when, "UTC") == evaluate(as_dict, when, "UTC")
    assert evaluate(record, at(0, 16), "UTC").status == 0


def test_it_accepts_wire_names_and_lone_objects():
    wire = {
        "id": "3", "name": "w", "time-zone": "UTC",
        "week-days": {"week-day": {"day": "1", "properties": {"status": "OPEN", "start-time": "09:00", "end-time": "17:00"}}},
        "exceptions": {"exception": {"name": "x", "date": "2026-06-08"}},
    }
    assert [status(wire, at(0, 10)), status(wire, at(7, 10))] == [0, -1]


def test_it_sees_a_dict_edited_in_place():
    s = sched([day(1, prop(0, "09:00", "17:00"))])
    assert status(s, at(0, 10)) == 0
    s["week_days"][0]["properties"][0]["status"] = -1
    assert status(s, at(0, 10)) == -1


def test_it_gives_the_documented_dict_shapes():
    s = sched([day(1, prop(0, "09:00", "17:00"))], zone="America/Los_Angeles")
    when = datetime(2026, 6, 1, 16, 30, tzinfo=UTC)  # 09:30 PDT
    assert evaluate(s, when, "UTC").to_dict() == {
        "status": 0, "label": "OPEN", "state": "open", "next_change": "2026-06-02T00:00:00+00:00",
        "next_status": -1, "exception": None, "zone": "America/Los_Angeles", "zone_fallback": False,
    }
    assert local_status_dict(s, when, "UTC") == {"status": 0, "label": "OPEN", "next_change": "2026-06-02T00:00:00+00:00"}


def test_it_labels_choice_states():
    s = sched([day(1, prop("CHOICE #5", "09:00", "17:00"))])
    state = evaluate(s, at(0, 10), "UTC")
    assert (state.status, state.label, state.state) == (5, "CHOICE #5", "choice")


def test_it_reads_absent_times_as_the_edges_of_the_day():
    s = sched([], [{"name": "Half day", "date": "2026-06-02", "properties": [{"status": 0, "start_time": "13:00"}]}])
    assert [status(s, at(1, 12, 59)), status(s, at(1, 13)), status(s, at(1, 23, 59)), status(s, at(2, 0))] == [-1, 0, 0, -1]


def test_it_accepts_the_vcc_client_records():
    records = pytest.importorskip("wallboard.vcc.records")
    interval = records.ScheduleInterval
    record = records.Schedule(
        id="9", name="Support", time_zone="Europe/London",
        week_days=[records.WeekDay(1, [interval(0, "08:00", "17:00"), interval(3, "17:00", "18:00")])],
        exceptions=[records.ScheduleException("2026-06-08", None, [])],
    )
    assert evaluate(record, at(0, 16, 30), "UTC").status == 3  # 17:30 BST
    assert evaluate(record, at(7, 8), "UTC").exception == "2026-06-08"
    assert evaluate(record, at(0, 16, 30), "UTC") == evaluate(record.to_dict(), at(0, 16, 30), "UTC")


def test_it_applies_only_the_first_exception_listed_for_a_date():
    s = sched(
        [day(2, prop(0, "09:00", "17:00"))],
        [
            {"name": "Closed", "date": "2026-06-02", "properties": []},
            {"name": "Open late", "date": "2026-06-02", "properties": [prop(0, "10:00", "20:00")]},
        ],
    )
    state = evaluate(s, at(1, 12), "UTC")
    assert (state.status, state.exception) == (-1, "Closed")
    assert any("already covers" in p for p in compiled(s, "UTC").rules.problems)
