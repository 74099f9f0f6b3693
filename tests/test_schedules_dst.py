"""Daylight-saving edges in America/Los_Angeles and Europe/London, both directions.

Documented rule (docs/schedules.md): the status at an instant is what the rules say for the
local wall-clock reading at that instant. So a time skipped by spring-forward is never read (a
boundary inside the gap takes effect at the end of the gap), and the repeated hour of a
fall-back is read twice: a boundary inside it happens at both of its occurrences.
"""

from __future__ import annotations

from datetime import UTC, datetime

from wallboard.schedules.engine import evaluate

LA, LONDON = "America/Los_Angeles", "Europe/London"


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def sunday(zone, *props):
    props = [{"status": s, "start_time": a, "end_time": b} for s, a, b in props]
    return {"id": "1", "name": "dst", "time_zone": zone, "week_days": [{"day": 0, "properties": props}], "exceptions": []}


def state(schedule, when):
    return evaluate(schedule, when, "UTC")


# Los Angeles: 2026-03-08 02:00 PST -> 03:00 PDT (10:00 UTC); 2026-11-01 02:00 PDT -> 01:00 PST (09:00 UTC).


def test_it_runs_an_interval_across_the_spring_forward_gap_for_its_real_length():
    s = sunday(LA, (0, "01:30", "03:30"))  # 09:30 UTC to 10:30 UTC: one real hour
    opened = state(s, utc(2026, 3, 8, 9, 30))
    assert (opened.status, opened.since, opened.next_change) == (0, utc(2026, 3, 8, 9, 30), utc(2026, 3, 8, 10, 30))


def test_it_starts_an_interval_that_begins_in_the_gap_at_the_end_of_the_gap():
    s = sunday(LA, (0, "02:30", "05:00"))
    before = state(s, utc(2026, 3, 8, 9, 0))
    assert (before.status, before.next_change, before.next_status) == (-1, utc(2026, 3, 8, 10, 0), 0)
    assert state(s, utc(2026, 3, 8, 10, 0)).status == 0


def test_it_ends_an_interval_that_ends_in_the_gap_at_the_end_of_the_gap():
    s = sunday(LA, (0, "00:00", "02:30"))
    assert state(s, utc(2026, 3, 8, 9, 59)).status == 0
    assert state(s, utc(2026, 3, 8, 9, 0)).next_change == utc(2026, 3, 8, 10, 0)


def test_it_never_opens_an_interval_that_lies_inside_the_gap():
    s = sunday(LA, (0, "02:00", "02:30"))
    before = state(s, utc(2026, 3, 7, 12, 0))
    # Not on 2026-03-08; next Sunday 02:00 PDT instead.
    assert (before.status, before.next_change) == (-1, utc(2026, 3, 15, 9, 0))


def test_it_reads_the_repeated_hour_of_fall_back_as_the_clock_shows_it():
    s = sunday(LA, (0, "01:30", "03:00"))  # opens at both 01:30s: 08:30 and 09:30 UTC
    assert state(s, utc(2026, 11, 1, 8, 29)).next_change == utc(2026, 11, 1, 8, 30)
    first_pass = state(s, utc(2026, 11, 1, 8, 40))  # 01:40 PDT
    assert (first_pass.status, first_pass.next_change, first_pass.next_status) == (0, utc(2026, 11, 1, 9, 0), -1)
    second_pass = state(s, utc(2026, 11, 1, 9, 10))  # 01:10 PST: before 01:30 again
    assert (second_pass.status, second_pass.next_change, second_pass.since) == (-1, utc(2026, 11, 1, 9, 30), utc(2026, 11, 1, 9, 0))
    reopened = state(s, utc(2026, 11, 1, 9, 30))
    assert (reopened.status, reopened.next_change) == (0, utc(2026, 11, 1, 11, 0))  # 03:00 PST


def test_it_reopens_an_interval_that_ends_inside_the_repeated_hour():
    s = sunday(LA, (0, "00:00", "01:30"))  # ends at both 01:30s: 08:30 and 09:30 UTC
    assert state(s, utc(2026, 11, 1, 8, 29)).next_change == utc(2026, 11, 1, 8, 30)
    gap = state(s, utc(2026, 11, 1, 8, 40))  # 01:40 PDT
    assert (gap.status, gap.next_change, gap.next_status) == (-1, utc(2026, 11, 1, 9, 0), 0)
    assert state(s, utc(2026, 11, 1, 9, 10)).status == 0  # 01:10 PST: inside 00:00-01:30 again
    assert state(s, utc(2026, 11, 1, 9, 40)).status == -1  # 01:40 PST


def test_it_crosses_02_00_on_both_change_days_in_los_angeles():
    s = sunday(LA, (0, "01:00", "04:00"))
    spring = state(s, utc(2026, 3, 8, 9, 0))  # 01:00 PST
    fall = state(s, utc(2026, 11, 1, 8, 0))  # 01:00 PDT
    assert (spring.status, spring.next_change) == (0, utc(2026, 3, 8, 11, 0))  # 04:00 PDT: 2 real hours
    assert (fall.status, fall.next_change) == (0, utc(2026, 11, 1, 12, 0))  # 04:00 PST: 4 real hours


def test_it_puts_next_change_on_the_far_side_of_a_dst_change():
    weekdays = {
        "id": "2", "name": "office", "time_zone": LA, "exceptions": [],
        "week_days": [{"day": d, "properties": [{"status": 0, "start_time": "09:00", "end_time": "17:00"}]} for d in range(1, 6)],
    }
    friday_evening = utc(2026, 10, 31, 1, 0)  # Fri 18:00 PDT
    assert state(weekdays, friday_evening).next_change == utc(2026, 11, 2, 17, 0)  # Mon 09:00 PST
    march_friday = utc(2026, 3, 7, 2, 0)  # Fri 18:00 PST
    assert state(weekdays, march_friday).next_change == utc(2026, 3, 9, 16, 0)  # Mon 09:00 PDT


def test_it_spans_midnight_into_a_spring_forward_day():
    s = {
        "id": "3", "name": "nights", "time_zone": LA, "exceptions": [],
        "week_days": [{"day": 6, "properties": [{"status": 1, "start_time": "22:00", "end_time": "06:00"}]}],
    }
    night = state(s, utc(2026, 3, 8, 6, 0))  # Sat 22:00 PST
    assert (night.status, night.next_change) == (1, utc(2026, 3, 8, 13, 0))  # Sun 06:00 PDT: 7 real hours


# London: 2026-03-29 01:00 GMT -> 02:00 BST (01:00 UTC); 2026-10-25 02:00 BST -> 01:00 GMT (01:00 UTC).


def test_it_crosses_the_spring_forward_gap_in_london():
    s = sunday(LONDON, (0, "00:30", "02:30"))
    opened = state(s, utc(2026, 3, 29, 0, 30))
    assert (opened.status, opened.next_change) == (0, utc(2026, 3, 29, 1, 30))  # one real hour


def test_it_starts_a_gap_time_at_the_end_of_the_gap_in_london():
    s = sunday(LONDON, (2, "01:30", "03:00"))
    before = state(s, utc(2026, 3, 29, 0, 0))
    assert (before.next_change, before.next_status) == (utc(2026, 3, 29, 1, 0), 2)


def test_it_reads_the_repeated_hour_twice_in_london():
    s = sunday(LONDON, (0, "01:30", "02:30"))  # 01:30 BST (00:30 UTC) and 01:30 GMT (01:30 UTC)
    assert state(s, utc(2026, 10, 25, 0, 0)).next_change == utc(2026, 10, 25, 0, 30)
    second_pass = state(s, utc(2026, 10, 25, 1, 15))  # 01:15 GMT
    assert (second_pass.status, second_pass.next_change) == (-1, utc(2026, 10, 25, 1, 30))
    assert state(s, utc(2026, 10, 25, 1, 30)).next_change == utc(2026, 10, 25, 2, 30)  # 02:30 GMT


def test_it_puts_next_change_on_the_far_side_of_autumn_in_london():
    weekdays = {
        "id": "4", "name": "office", "time_zone": LONDON, "exceptions": [],
        "week_days": [{"day": d, "properties": [{"status": 0, "start_time": "09:00", "end_time": "17:00"}]} for d in range(1, 6)],
    }
    assert state(weekdays, utc(2026, 10, 23, 17, 0)).next_change == utc(2026, 10, 26, 9, 0)  # Mon 09:00 GMT
    assert state(weekdays, utc(2026, 3, 27, 18, 0)).next_change == utc(2026, 3, 30, 8, 0)  # Mon 09:00 BST
