"""The phase lock's search (issue 23): locked within two intervals of the start or of a move upstream.

Deterministic: an upstream model refreshes at given times and answers with records whose
agents' time in status grows with its clock, as 8x8's do; the polls follow plan_next_poll's
plan exactly (no timing). Age = poll time - the refresh its answer came from.
"""

from __future__ import annotations

import math
from bisect import bisect_right

import pytest

from wallboard.polling.phase import PHASE_FINE, fingerprint, plan_next_poll, upstream_advance
from wallboard.vcc.records import Agent, Queue

SINCE = (-5000.3, -3333.7, -2500.2, -1000.9, -700.5)  # when each agent's status began


class Upstream:
    """A cache refreshed every `interval` at `phase`, moved to `moved` at time `at` (none older)."""

    def __init__(self, phase: float, interval: float = 10.0, moved: float | None = None, at: float = math.inf):
        self.interval = interval
        old = [phase + interval * k for k in range(-2, 200) if phase + interval * k <= at]
        new = [moved + interval * k for k in range(0, 200) if moved + interval * k > old[-1]] if moved is not None else []
        self.refreshes = old + new

    def refresh_before(self, t: float) -> float:
        return self.refreshes[bisect_right(self.refreshes, t) - 1]

    def answer(self, t: float) -> str:
        refreshed = self.refresh_before(t)
        agents = [Agent(f"a{i}", time_in_status=int(refreshed - since)) for i, since in enumerate(SINCE)]
        return fingerprint(agents, [Queue("q1", day_queued=round(refreshed))])


def run(upstream: Upstream, start: float, until: float, late: tuple[float, ...] = (0.0,)) -> list[tuple[float, float, bool]]:
    """(poll time, age of its answer, new data?) for every poll from `start` to `until`.

    Poll n runs `late[n % len(late)]` after its plan, as a worker does under load.
    """
    t, polls, last = start, [], None
    while t < until:
        refreshed = upstream.refresh_before(t)
        polls.append((t, t - refreshed, refreshed != last))
        last = refreshed
        t = plan_next_poll(1, upstream.interval, t, upstream.answer(t)) + late[len(polls) % len(late)]
    return polls


def locked_after(polls: list[tuple[float, float, bool]], since: float, max_age: float) -> float:
    """Seconds from `since` to the first answer with new data after which none is older than `max_age`."""
    fresh = [(t, age) for t, age, new in polls if new and t >= since]
    late = [t for t, age in fresh if age > max_age]
    return min(t for t, _ in fresh if not late or t > late[-1]) - since


def calls_per_refresh(polls: list[tuple[float, float, bool]], start: float, end: float, upstream: Upstream) -> float:
    inside = [t for t, _, _ in polls if start <= t < end]
    refreshes = [r for r in upstream.refreshes if start <= r < end]
    return len(inside) / len(refreshes)


@pytest.mark.parametrize("offset", [0.1, 1.3, 2.5, 4.9, 6.2, 7.5, 9.9])
def test_it_locks_within_two_intervals_of_the_start(redis_client, offset):
    upstream = Upstream(phase=1000.0)
    polls = run(upstream, 1000.0 + offset, 1400.0)

    assert locked_after(polls, 1000.0 + offset, PHASE_FINE) <= 20.0
    ages = [age for t, age, new in polls if new and t >= 1030.0]
    assert max(ages) <= PHASE_FINE + 1e-6
    assert calls_per_refresh(polls, 1030.0, 1400.0, upstream) <= 1.1  # one, and the rare probe


@pytest.mark.parametrize("move", [1.5, 4.0, 7.5])
def test_it_relocks_within_two_intervals_of_a_later_refresh(redis_client, move):
    upstream = Upstream(phase=1000.0, moved=1000.0 + move, at=1201.0)
    polls = run(upstream, 1003.0, 1600.0)

    assert locked_after(polls, 1201.0, PHASE_FINE) <= 20.0
    assert max(age for t, age, new in polls if new and t >= 1230.0) <= PHASE_FINE + 1e-6
    assert calls_per_refresh(polls, 1230.0, 1600.0, upstream) <= 1.1


@pytest.mark.parametrize("move", [-1.5, -4.0, -7.5])
def test_it_relocks_within_two_intervals_of_an_earlier_refresh(redis_client, move):
    upstream = Upstream(phase=1000.0, moved=1010.0 + move, at=1201.0)
    polls = run(upstream, 1003.0, 1600.0)

    # Nothing looks wrong to an equality test here (every locked poll still gets new data, only
    # older): the agents' time in status tells.
    assert locked_after(polls, 1201.0, PHASE_FINE) <= 20.0
    assert max(age for t, age, new in polls if new and t >= 1230.0) <= PHASE_FINE + 1e-6
    assert calls_per_refresh(polls, 1230.0, 1600.0, upstream) <= 1.1


def test_it_locks_within_two_intervals_of_a_five_second_refresh(redis_client):
    upstream = Upstream(phase=1000.0, interval=5.0)
    polls = run(upstream, 1003.3, 1300.0)

    assert locked_after(polls, 1003.3, PHASE_FINE) <= 10.0 + 2 * PHASE_FINE
    assert calls_per_refresh(polls, 1030.0, 1300.0, upstream) <= 1.1


def agents(seconds: dict[str, int | None]) -> list[Agent]:
    return [Agent(agent_id, time_in_status=value) for agent_id, value in seconds.items()]


def test_it_reads_how_far_upstream_moved_from_agents_whose_status_did_not_change():
    before = fingerprint(agents({"a": 5000, "b": 4000, "c": 3000, "d": 2000}), [])
    after = fingerprint(agents({"a": 5006, "b": 4006, "c": 3006, "d": 3}), [])  # d changed status

    assert upstream_advance(before, after) == 6.0


@pytest.mark.parametrize(
    "after",
    [
        {"a": 5006, "b": 4006},  # two agents left in both: too few to tell
        {"a": 1, "b": 2, "c": 3},  # every status changed
        {"x": 9000, "y": 8000, "z": 7000},  # other agents
    ],
)
def test_it_does_not_guess_a_move_from_too_few_agents(after):
    before = fingerprint(agents({"a": 5000, "b": 4000, "c": 3000}), [])

    assert upstream_advance(before, fingerprint(agents(after), [])) is None


@pytest.mark.parametrize("odd", ["", "no sample", "x|", "x|[1, 2]", 'x|{"a": "5"}', "x|{not json"])
def test_it_reads_no_move_from_a_fingerprint_without_a_sample(odd):
    good = fingerprint(agents({"a": 5000, "b": 4000, "c": 3000}), [])

    assert upstream_advance(odd, good) is None
    assert upstream_advance(good, odd) is None


def test_it_keeps_only_the_agents_longest_in_their_status():
    many = agents({f"a{i}": i for i in range(40)} | {"gone": None})

    kept = fingerprint(many, []).partition("|")[2]

    assert '"a39": 39' in kept and '"a28": 28' in kept and '"a27"' not in kept and "gone" not in kept


@pytest.mark.parametrize("offset", [1.3, 4.9, 7.5])
def test_it_locks_where_a_late_worker_saw_the_refresh_not_where_it_was_due(redis_client, offset):
    upstream = Upstream(phase=1000.0)
    polls = run(upstream, 1000.0 + offset, 1400.0, late=(0.0, 0.3, 0.0, 0.0, 0.2))

    # Locked on the plan, a poll that ran late and saw the refresh would put the lock before it:
    # the next locked poll, on time, would find nothing new and search again.
    slack = PHASE_FINE + 2 * 0.3  # the lock's step and two late polls
    assert locked_after(polls, 1000.0 + offset, slack) <= 20.0
    assert max(age for t, age, new in polls if new and t >= 1030.0) <= slack + 1e-6
    # Late polls make a few more probes come too early (one extra call each) than on time.
    assert calls_per_refresh(polls, 1030.0, 1400.0, upstream) <= 1.15


def test_it_comes_back_close_to_the_refresh_after_a_lock_taken_late(redis_client):
    upstream = Upstream(phase=1000.0)
    # Every fine poll runs 0.9 s late (a busy worker): the lock is taken up to a second after the refresh.
    polls = run(upstream, 1004.9, 1300.0, late=(0.0, 0.0, 0.0, 0.9, 0.9, 0.9, 0.9) + (0.0,) * 60)

    assert locked_after(polls, 1004.9, 2 * PHASE_FINE) <= 60.0  # the probes bring it back within a few cycles
    assert calls_per_refresh(polls, 1060.0, 1300.0, upstream) <= 1.1
