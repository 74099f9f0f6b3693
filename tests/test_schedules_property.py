"""Property tests: the engine against a brute-force evaluator written here from the rules.

The brute force shares no code with the engine: it walks UTC minutes one by one, reads the
local wall clock, and applies the documented rules to that reading. That is the whole DST
rule (docs/schedules.md): the repeated hour of a fall-back is read twice, as the clock shows
it, and times skipped by spring-forward are simply never read.

The simulator's evaluator (wallboard/simulator/schedules.py, the stand-in for 8x8's /status)
is held to the same brute force, so the three agree. Besides random schedules, two targeted
generators: several intervals covering the same minute (overlaps, ties in start, spill-overs)
and boundaries and instants in and around a fall-back's repeated hour.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wallboard.schedules.engine import evaluate
from wallboard.simulator import schedules as sim

ZONES = [
    "UTC",
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "America/Santiago",  # transitions at local midnight
    "America/St_Johns",  # -03:30
    "Asia/Kolkata",  # no DST, +05:30
    "Pacific/Apia",  # skipped 2011-12-30 entirely
]
MINUTE = timedelta(minutes=1)
HORIZON = timedelta(days=8)
SPELLINGS = {0: [0, "0", "OPEN"], -1: [-1, "-1", "CLOSED"]} | {n: [n, f"CHOICE #{n}", f"Choice #{n}", f"CHOICE{n}"] for n in range(1, 7)}


# The brute force ----------------------------------------------------------------------------


def bf_code(value):
    """Status code from the few spellings the generator uses."""
    for code, spellings in SPELLINGS.items():
        if value in spellings:
            return code
    raise AssertionError(value)


def bf_minutes(text):
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def bf_intervals(properties, label, order_from):
    """[(start, end, code, order, label)] with end past 1440 for midnight spans; empty ones dropped."""
    out = []
    for offset, prop in enumerate(properties):
        start, end = bf_minutes(prop["start_time"]), bf_minutes(prop["end_time"])
        if end == 0:
            end = 1440
        if end < start:
            end += 1440
        if end != start:
            out.append((start, end, bf_code(prop["status"]), order_from + offset, label))
    return out


class BruteForce:
    def __init__(self, schedule, zone):
        self.zone = ZoneInfo(zone)
        self.week = {d: [] for d in range(7)}
        self.special = {}
        order = 0
        for week_day in schedule["week_days"]:
            self.week[week_day["day"]] += bf_intervals(week_day["properties"], None, order)
            order += len(week_day["properties"])
        for exc in schedule["exceptions"]:
            day = date.fromisoformat(exc["date"])
            props = exc["properties"] or [{"status": -1, "start_time": "00:00", "end_time": "24:00"}]
            if day not in self.special:  # the first exception listed for a date wins
                self.special[day] = (exc["name"] or exc["date"], bf_intervals(props, exc["name"] or exc["date"], order))
            order += len(props)

    def day_rules(self, day):
        if day in self.special:
            return self.special[day]
        sunday_first = (day.weekday() + 1) % 7
        return None, self.week[sunday_first]

    def at_wall(self, wall):
        """(code, exception label) for a local wall-clock reading."""
        day, minute = wall.date(), wall.hour * 60 + wall.minute
        label, today = self.day_rules(day)
        _, yesterday = self.day_rules(day - timedelta(days=1))
        candidates = [((0, s, o), c, lab) for s, e, c, o, lab in today if s <= minute < e]
        candidates += [((-1, s, o), c, lab) for s, e, c, o, lab in yesterday if s <= minute + 1440 < e]
        if not candidates:
            return -1, label
        _, code, lab = max(candidates)
        return code, lab

    def wall(self, instant):
        return instant.astimezone(self.zone).replace(tzinfo=None, fold=0)

    def at(self, instant):
        return self.at_wall(self.wall(instant))

    def next_change(self, instant):
        code = self.at(instant)[0]
        probe = instant + MINUTE
        while probe <= instant + HORIZON:
            other = self.at(probe)[0]
            if other != code:
                return probe, other
            probe += MINUTE
        return None, None

    def since(self, instant):
        code = self.at(instant)[0]
        probe = instant
        while probe > instant - HORIZON:
            if self.at(probe - MINUTE)[0] != code:
                return probe
            probe -= MINUTE
        return None


# Generators ---------------------------------------------------------------------------------


def transitions(zone_name, year):
    """UTC instants (to the hour) where the zone's offset changes in a year."""
    zone = ZoneInfo(zone_name)
    found, t = [], datetime(year, 1, 1, tzinfo=UTC)
    previous = t.astimezone(zone).utcoffset()
    while t.year == year:
        t += timedelta(hours=1)
        offset = t.astimezone(zone).utcoffset()
        if offset != previous:
            found.append(t)
        previous = offset
    return found


TRANSITIONS = {z: transitions(z, 2025) + transitions(z, 2026) for z in ZONES}
TRANSITIONS["Pacific/Apia"] += transitions("Pacific/Apia", 2011)

# Hours 0-3 are where DST moves the clock; weight them so gaps and repeats get hit.
hours = st.integers(0, 3) | st.integers(0, 23)
clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", hours, st.sampled_from([0, 0, 30, 15, 1, 59]) | st.integers(0, 59))
end_clock = clock | st.sampled_from(["00:00", "24:00"])
status = st.sampled_from(sorted(SPELLINGS)).flatmap(lambda code: st.sampled_from(SPELLINGS[code]))
prop = st.fixed_dictionaries({"status": status, "start_time": clock, "end_time": end_clock})
week_day = st.fixed_dictionaries({"day": st.integers(0, 6), "properties": st.lists(prop, min_size=1, max_size=3)})


@st.composite
def instants(draw, zone):
    """Minute-aligned instants, half of them within days of a DST transition."""
    edges = TRANSITIONS[zone]
    if edges and draw(st.booleans()):
        base = draw(st.sampled_from(edges))
        return base + timedelta(minutes=draw(st.integers(-3 * 1440, 3 * 1440)))
    return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 4 * 366 * 1440)))


@st.composite
def cases(draw):
    zone = draw(st.sampled_from(ZONES))
    at = draw(instants(zone))
    local_day = at.astimezone(ZoneInfo(zone)).date()
    exceptions = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.sampled_from(["", "Holiday", "Stocktake"]),
                    "date": st.integers(-2, 9).map(lambda k: (local_day + timedelta(days=k)).isoformat()),
                    "properties": st.lists(prop, max_size=2),
                }
            ),
            max_size=3,
        )
    )
    schedule = {
        "id": "1",
        "name": "generated",
        "time_zone": zone,
        "week_days": draw(st.lists(week_day, max_size=8)),
        "exceptions": exceptions,
    }
    return schedule, zone, at


def clock_of(minute):
    """"HH:MM" for minutes since midnight; 1440 is the midnight that ends the day."""
    return "24:00" if minute == 1440 else f"{minute // 60:02d}:{minute % 60:02d}"


def weekday_of(day):
    return (day.weekday() + 1) % 7  # the API's 0 = Sunday


@st.composite
def overlap_cases(draw):
    """A random case plus intervals that all cover the instant's wall-clock minute.

    Today's intervals start at or before that minute and end after it (some spanning midnight,
    some sharing a start, so the tie rule matters); yesterday's spill-overs reach past it too.
    They land in random places among the other week-day elements (document order matters),
    or in an exception for the date, listed first so that it is the one that applies.
    """
    schedule, zone, at = draw(cases())
    wall = at.astimezone(ZoneInfo(zone))
    minute, today = wall.hour * 60 + wall.minute, wall.date()
    shared = draw(st.integers(0, minute))
    starts = st.sampled_from([0, minute, shared]) | st.integers(0, minute)

    def covering(start):
        # Less than a whole day (an end equal to the start would be empty), except from 00:00,
        # where "24:00" is the whole day: the only cover for 23:59.
        longest = 1440 if start == 0 else 1439
        end = draw(st.integers(minute + 1, min(start + longest, minute + 720)))
        return {"status": draw(status), "start_time": clock_of(start), "end_time": clock_of(end if end <= 1440 else end - 1440)}

    todays = [covering(draw(starts)) for _ in range(draw(st.integers(2, 4)))]
    spills = []
    if minute < 1439:
        for _ in range(draw(st.integers(0, 2))):
            start = draw(st.integers(minute + 1, 1439))  # yesterday, later than today's minute ...
            end = draw(st.integers(minute + 1, start))  # ... so the end is earlier: a span past today's minute
            spills.append({"status": draw(status), "start_time": clock_of(start), "end_time": clock_of(end % 1440)})
    extra = [{"day": weekday_of(today - timedelta(days=1)), "properties": spills}] if spills else []
    if draw(st.booleans()):
        extra += [{"day": weekday_of(today), "properties": todays[:1]}, {"day": weekday_of(today), "properties": todays[1:]}]
    else:
        label = draw(st.sampled_from(["", "Stocktake"]))
        schedule["exceptions"].insert(0, {"name": label, "date": today.isoformat(), "properties": todays})
    schedule["week_days"] = draw(st.permutations(schedule["week_days"] + extra))
    return schedule, zone, at


FALL_BACKS = {
    zone: [t for t in edges if (t - timedelta(hours=1)).astimezone(ZoneInfo(zone)).utcoffset() > t.astimezone(ZoneInfo(zone)).utcoffset()]
    for zone, edges in TRANSITIONS.items()
}
FALL_BACKS = {zone: edges for zone, edges in FALL_BACKS.items() if edges}


@st.composite
def fall_back_cases(draw):
    """Boundaries and instants in and around the repeated wall-clock time of a fall-back.

    Zones: Los Angeles and London (an hour), Lord Howe (30 minutes), Santiago (the last hour
    of a Saturday repeats), St John's. The instant is in the first pass, the second pass or
    just outside them; interval boundaries fall within 45 minutes of the repeated stretch.
    """
    zone = draw(st.sampled_from(sorted(FALL_BACKS)))
    change = draw(st.sampled_from(FALL_BACKS[zone]))
    tz = ZoneInfo(zone)
    repeat = int(((change - timedelta(hours=1)).astimezone(tz).utcoffset() - change.astimezone(tz).utcoffset()).total_seconds() // 60)
    at = change + timedelta(minutes=draw(st.integers(-repeat - 45, repeat + 45)))
    second_pass = change.astimezone(tz).replace(tzinfo=None)  # where the clock goes back to
    near = st.integers(-45, repeat + 45).map(lambda m: second_pass + timedelta(minutes=m))
    anywhere = st.integers(-1440, 1440).map(lambda m: second_pass + timedelta(minutes=m))
    week_days = draw(st.lists(week_day, max_size=3))
    for _ in range(draw(st.integers(1, 4))):
        start, end = sorted([draw(near), draw(near | anywhere)])
        if end - start >= timedelta(days=1):
            continue
        end_minute = end.hour * 60 + end.minute
        prop = {"status": draw(status), "start_time": clock_of(start.hour * 60 + start.minute), "end_time": clock_of(end_minute)}
        week_days.append({"day": weekday_of(start.date()), "properties": [prop]})
    schedule = {
        "id": "1", "name": "fall back", "time_zone": zone,
        "week_days": draw(st.permutations(week_days)), "exceptions": [],
    }
    return schedule, zone, at


def as_simulator_schedule(schedule):
    """The generated dict as the simulator's own Schedule type."""

    def intervals(props):
        return tuple(sim.Interval(p["status"], p["start_time"], p["end_time"]) for p in props)

    return sim.Schedule(
        schedule["id"], schedule["name"], schedule["time_zone"],
        tuple(sim.WeekDay(wd["day"], intervals(wd["properties"])) for wd in schedule["week_days"]),
        tuple(sim.Exception_(e["name"], e["date"], intervals(e["properties"])) for e in schedule["exceptions"]),
    )


SETTINGS = settings(max_examples=int(__import__("os").environ.get("SCHED_EXAMPLES", 150)), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cases())
def test_it_agrees_with_brute_force_on_status_and_exception(case):
    schedule, zone, at = case
    state = evaluate(schedule, at, "UTC")
    code, label = BruteForce(schedule, zone).at(at)
    assert (state.status, state.exception) == (code, label)
    assert state.zone == zone and not state.zone_fallback


@SETTINGS
@given(cases())
def test_it_agrees_with_brute_force_on_next_change(case):
    schedule, zone, at = case
    state = evaluate(schedule, at, "UTC")
    assert (state.next_change, state.next_status) == BruteForce(schedule, zone).next_change(at)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_it_agrees_with_brute_force_on_since(case):
    schedule, zone, at = case
    assert evaluate(schedule, at, "UTC").since == BruteForce(schedule, zone).since(at)


@settings(max_examples=40, deadline=None)
@given(cases(), st.integers(1, 20 * 1440))
def test_it_gives_the_same_answer_whatever_was_evaluated_before(case, minutes):
    # The compiled timeline is cached and moved along; a jump must not change answers.
    schedule, zone, at = case
    later = at + timedelta(minutes=minutes)
    first = (evaluate(schedule, at, "UTC"), evaluate(schedule, later, "UTC"))
    from wallboard.schedules.engine import clear_cache

    clear_cache()
    assert evaluate(schedule, later, "UTC") == first[1]
    assert evaluate(schedule, at, "UTC") == first[0]


@SETTINGS
@given(overlap_cases())
def test_it_agrees_with_brute_force_where_intervals_overlap(case):
    schedule, zone, at = case
    state = evaluate(schedule, at, "UTC")
    brute = BruteForce(schedule, zone)
    assert (state.status, state.exception) == brute.at(at)
    assert (state.next_change, state.next_status) == brute.next_change(at)


@SETTINGS
@given(fall_back_cases())
def test_it_agrees_with_brute_force_around_a_repeated_hour(case):
    schedule, zone, at = case
    state = evaluate(schedule, at, "UTC")
    brute = BruteForce(schedule, zone)
    assert (state.status, state.exception) == brute.at(at)
    assert (state.next_change, state.next_status) == brute.next_change(at)
    assert state.since == brute.since(at)


@SETTINGS
@given(cases() | overlap_cases() | fall_back_cases())
def test_it_holds_the_simulators_evaluator_to_the_same_brute_force(case):
    # The simulator stands in for 8x8's /status: it must follow the same documented rules.
    schedule, zone, at = case
    theirs = sim.status_at(as_simulator_schedule(schedule), at, ZoneInfo("UTC"))
    assert bf_code(theirs) == BruteForce(schedule, zone).at(at)[0]
