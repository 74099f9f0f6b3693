"""The phase lock when polls planned less than a beat tick ahead run at the next tick (issue 23).

The beat ticks every second and a tick claims the polls due before the next one: a plan
written after the tick that would have covered it (the lock's steps of a quarter second, the
poll just after a probe that came too early) waits for the next tick, up to a second late.
Locking where such a poll ran put the lock that late after the refresh for a dozen cycles.

Deterministic: the upstream model of test_polling_phase_search, and a dispatcher that runs each
plan at max(plan, the first tick after the plan was written); a poll takes POLL_TAKES.
"""

from __future__ import annotations

import math

import pytest

from tests.test_polling_phase_search import SINCE, Upstream
from wallboard.polling.phase import PHASE_FINE, fingerprint, plan_next_poll
from wallboard.vcc.records import Agent, Queue

TICK = 1.0
POLL_TAKES = 0.1  # from a poll's request to its plan


def next_tick(t: float, tick_phase: float) -> float:
    return math.ceil((t - tick_phase) / TICK) * TICK + tick_phase


def answer(upstream: Upstream, t: float, gap: float) -> str:
    """The fingerprint of agents asked for at `t` and queues `gap` later."""
    agents_from, queues_from = upstream.refresh_before(t), upstream.refresh_before(t + gap)
    agents = [Agent(f"a{i}", time_in_status=int(agents_from - since)) for i, since in enumerate(SINCE)]
    return fingerprint(agents, [Queue("q1", day_queued=round(queues_from))])


def run(upstream: Upstream, start: float, until: float, tick_phase: float,
        gap: float = 0.0) -> list[tuple[float, float, bool, bool]]:
    """(poll time, age of its agents, new agents?, planned at least a tick ahead?) for every poll."""
    t, polls, last, ahead = start, [], None, True
    while t < until:
        refreshed = upstream.refresh_before(t)
        polls.append((t, t - refreshed, refreshed != last, ahead))
        last = refreshed
        written = t + gap + POLL_TAKES
        planned = plan_next_poll(1, upstream.interval, t, answer(upstream, t, gap))
        ahead = planned - written >= TICK
        t = max(planned, next_tick(written, tick_phase))
    return polls


@pytest.mark.parametrize("tick_phase", [0.3, 0.55, 0.8, 0.9])
@pytest.mark.parametrize("offset", [1.3, 4.9, 7.6])
@pytest.mark.parametrize("gap", [0.0, 0.15])  # from the agents call to the queues call
def test_it_keeps_the_lock_where_it_was_when_a_poll_after_a_probe_runs_at_the_next_tick(
    redis_client, tick_phase, offset, gap
):
    upstream = Upstream(phase=1000.0)
    polls = run(upstream, 1000.0 + offset, 2600.0, tick_phase, gap)

    # Once the probes have brought the lock to the refresh, every poll planned a cycle ahead
    # gets its answer within the lock's step of it, through all the later probes.
    locked = [age for t, age, new, ahead in polls if t >= 1400.0 and new and ahead]
    assert max(locked) <= PHASE_FINE + 1e-6
    assert len([t for t, *_ in polls if t >= 1400.0]) / 120 <= 1.1  # 120 refreshes: one call each, and the probes
