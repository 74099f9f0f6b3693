"""The phase lock and a refresh that falls between a poll's two calls (issue 23).

A poll asks for agents, then for queues: a refresh between the two gives new queues and agents
a whole interval old. Counted as new data, the lock settled there and kept the agents ten
seconds old on every screen, while probes seconds early still "saw new data" (their agents
were newer than the locked poll's): the unexplained early probes of the loaded bench run.

Deterministic: an upstream model refreshes every 10 s; its agents answer comes from the refresh
before the poll, its queues answer from the refresh before the poll plus `gap`.
"""

from __future__ import annotations

from bisect import bisect_right

import pytest

from wallboard.polling.phase import PHASE_FINE, fingerprint, plan_next_poll, straddled
from wallboard.vcc.records import Agent, Queue

SINCE = (-5000.3, -3333.7, -2500.2, -1000.9, -700.5)  # when each agent's status began
INTERVAL = 10.0


def refresh_before(t: float, phase: float = 1000.0) -> float:
    refreshes = [phase + INTERVAL * k for k in range(-2, 200)]
    return refreshes[bisect_right(refreshes, t) - 1]


def agents_at(refreshed: float) -> list[Agent]:
    return [Agent(f"a{i}", time_in_status=int(refreshed - since)) for i, since in enumerate(SINCE)]


def queues_at(refreshed: float) -> list[Queue]:
    return [Queue("q1", day_queued=round(refreshed))]


def run(start: float, until: float, gap: float) -> tuple[list[tuple[float, float]], list[float]]:
    """(poll time, age of what it brought) for every poll from `start` to `until` that brought news,
    and the time of every poll.

    The age of the oldest half that changed: a poll that got old agents with new queues shows
    nothing older than before (its agents did not change), unless its agents are new to the
    screen too, and so an interval old.
    """
    t, polls, times, last = start, [], [], (0.0, 0.0)
    while t < until:
        times.append(t)
        agents_from, queues_from = refresh_before(t), refresh_before(t + gap)
        changed = [came for came, before in zip((agents_from, queues_from), last, strict=True) if came != before]
        if changed:
            polls.append((t, t - min(changed)))
        last = agents_from, queues_from
        t = plan_next_poll(1, INTERVAL, t, fingerprint(agents_at(agents_from), queues_at(queues_from)))
    return polls, times


@pytest.mark.parametrize("offset", [0.05, 0.1, 0.15, 1.3, 4.9, 7.6, 9.9])
@pytest.mark.parametrize("gap", [0.1, 0.2])
def test_it_does_not_lock_where_a_refresh_falls_between_the_two_calls(redis_client, offset, gap):
    polls, times = run(1000.0 + offset, 1400.0, gap)

    locked = [age for t, age in polls if t >= 1030.0]
    # Locked, what a poll brings comes from the refresh just before it, never the one before that.
    assert max(locked) <= PHASE_FINE + gap + 1e-6
    # 37 refreshes from 1030 to 1400: one call each, and the rare probe.
    assert len([t for t in times if t >= 1030.0]) / 37 <= 1.1


def test_it_tells_a_straddled_answer_from_new_data():
    old, new = 1000.0, 1010.0
    before = fingerprint(agents_at(old), queues_at(old))

    assert straddled(before, fingerprint(agents_at(old), queues_at(new)))
    assert not straddled(before, fingerprint(agents_at(new), queues_at(new)))
    assert not straddled(before, before)


def test_it_takes_new_queues_for_new_data_when_no_agent_moves():
    # Nobody logged in: the agents answer never changes, and must not hold every poll back.
    idle = [Agent("a1", time_in_status=None)]
    before = fingerprint(idle, queues_at(1000.0))

    assert not straddled(before, fingerprint(idle, queues_at(1010.0)))


def test_it_looks_again_a_step_after_a_late_straddled_poll_ran_not_after_it_was_due(redis_client):
    due = plan_next_poll(1, INTERVAL, 1000.3, fingerprint(agents_at(990.0), queues_at(990.0)))  # scanning
    ran = due + 0.9  # at the next beat tick: a plan under a tick ahead waits for it
    # A refresh began between its two calls: the same agents, new queues.
    after = plan_next_poll(1, INTERVAL, ran, fingerprint(agents_at(990.0), queues_at(1000.0)))

    assert ran < after <= ran + PHASE_FINE + 1e-6
