"""Board state: filtering, thresholds, aggregation, schedules, steady timers and history."""

from wallboard.boards.state import (
    BoardConfig,
    GroupConf,
    QueueConf,
    TenantSnapshot,
    ThresholdConf,
    aggregate,
    compute_board_state,
    threshold_state,
)
from wallboard.vcc.records import Agent, Queue

NOW = 1_763_800_000


def queue(qid, **metrics):
    base = {"queue_name": f"Queue {qid}", "media_type": "phone", "queue_size": 0, "longest_wait_time": 0,
            "sla_activity": None, "day_queued": 0}
    return Queue(queue_id=qid, **{**base, **metrics})


def agent(aid, status=0, since=30, group="101"):
    return Agent(agent_id=aid, agent_name=aid.title(), agent_status=status, time_in_status=since,
                 group_id=group, agent_media_id=1)


def compute(cfg, agents, queues, schedules, previous, now):
    snapshot = TenantSnapshot.from_records(agents, queues.values())
    return compute_board_state(cfg, snapshot, schedules, previous, now)


def config(**kwargs):
    defaults = dict(
        slug="b", title="Board", queue_metrics=("queue_size", "longest_wait_time", "sla_activity"),
        queues=(QueueConf("1"), QueueConf("2", schedule_id="s1")),
    )
    return BoardConfig(**{**defaults, **kwargs})


def test_it_colours_values_above_and_below():
    above = ThresholdConf("queue_size", "", "above", 3, 6)
    assert [threshold_state(v, above) for v in (0, 3, 5, 6, None)] == ["ok", "warn", "warn", "alert", "ok"]
    below = ThresholdConf("sla_activity", "", "below", 80, 60)
    assert [threshold_state(v, below) for v in (95, 80, 61, 60)] == ["ok", "warn", "warn", "alert"]


def test_it_prefers_a_queue_threshold_to_the_board_wide_one():
    cfg = config(thresholds=(ThresholdConf("queue_size", "", "above", 3, 6), ThresholdConf("queue_size", "2", "above", 1, 2)))
    state = compute(cfg, [], {"1": queue("1", queue_size=2), "2": queue("2", queue_size=2)}, {}, None, NOW)
    assert state["queues"]["1"]["states"] == {"queue_size": "ok"}
    assert state["queues"]["2"]["states"] == {"queue_size": "alert"}


def test_it_mutes_alerts_while_a_queue_is_closed():
    cfg = config(thresholds=(ThresholdConf("queue_size", "", "above", 1, 2),))
    closed = {"s1": {"status": -1, "label": "CLOSED", "state": "closed", "next_change": None}}
    state = compute(cfg, [], {"2": queue("2", queue_size=9)}, closed, None, NOW)
    assert state["queues"]["2"]["states"] == {"queue_size": "ok"}
    assert state["queues"]["2"]["schedule"]["state"] == "closed"
    unmuted = compute(config(thresholds=cfg.thresholds, mute_when_closed=False), [], {"2": queue("2", queue_size=9)}, closed, None, NOW)
    assert unmuted["queues"]["2"]["states"] == {"queue_size": "alert"}


def test_it_keeps_a_configured_queue_that_upstream_lacks():
    state = compute(config(), [], {}, {}, None, NOW)
    assert state["queues"]["1"]["missing"] is True
    assert state["queues"]["1"]["metrics"]["queue_size"] is None


def test_it_aggregates_queue_groups():
    q1 = queue("1", queue_size=2, longest_wait_time=30, sla_activity=90, day_queued=30)
    q2 = queue("2", queue_size=5, longest_wait_time=80, sla_activity=50, day_queued=10)
    cfg = config(groups=(GroupConf("g1", "All", ("1", "2", "9")),))
    group = compute(cfg, [], {"1": q1, "2": q2}, {}, None, NOW)["groups"]["g1"]
    assert group["metrics"] == {"queue_size": 7, "longest_wait_time": 80, "sla_activity": 80.0}
    assert group["kind"] == "group" and group["queue_ids"] == ["1", "2", "9"]


def test_it_averages_sla_plainly_when_there_is_no_volume():
    assert aggregate([queue("1", sla_activity=90), queue("2", sla_activity=70)], "sla_activity") == 80.0
    assert aggregate([queue("1", sla_activity=None)], "sla_activity") is None


def test_it_filters_agents_by_group():
    cfg = config(agent_groups={"101": "Tier 1"})
    state = compute(cfg, [agent("ann"), agent("bob", group="102")], {}, {}, None, NOW)
    assert list(state["agents"]) == ["ann"]
    assert state["board"]["agent_groups"] == {"101": "Tier 1"}
    assert state["agents"]["ann"]["state"] == "available"
    assert "status" not in state["agents"]["ann"]


def test_it_tells_the_page_which_queues_each_agent_group_answers():
    cfg = config(agent_groups={"101": "Tier 1", "102": "Tier 2"}, agent_group_queues={"101": ("115", "116")})
    state = compute(cfg, [agent("ann"), agent("bob", group="102")], {}, {}, None, NOW)
    assert state["board"]["agent_group_queues"] == {"101": ["115", "116"]}
    assert compute(config(), [], {}, {}, None, NOW)["board"]["agent_group_queues"] == {}


def test_it_keeps_status_since_steady_between_cycles():
    first = compute(config(), [agent("ann", status=2, since=30)], {}, {}, None, NOW)
    assert first["agents"]["ann"]["status_since"] == NOW - 30
    # Ten seconds later upstream says 41 s (its cache moved on by 11 s): the same start.
    second = compute(config(), [agent("ann", status=2, since=41)], {}, {}, first, NOW + 10)
    assert second["agents"]["ann"]["status_since"] == NOW - 30
    # A new status starts a new timer.
    third = compute(config(), [agent("ann", status=4, since=2)], {}, {}, second, NOW + 20)
    assert third["agents"]["ann"]["status_since"] == NOW + 18
    assert third["agents"]["ann"]["state"] == "on_break"


def test_it_keeps_an_hour_of_history_per_minute():
    state = None
    for minute in range(70):
        now = NOW - NOW % 60 + minute * 60
        state = compute(config(), [], {"1": queue("1", queue_size=minute)}, {}, state, now)
    points = state["queues"]["1"]["history"]["queue_size"]
    assert len(points) == 60
    assert max(points.values()) == 69 and min(points.values()) == 10


def test_it_keeps_the_highest_value_within_a_minute():
    start = NOW - NOW % 60
    state = compute(config(), [], {"1": queue("1", queue_size=5)}, {}, None, start)
    state = compute(config(), [], {"1": queue("1", queue_size=2)}, {}, state, start + 10)
    assert state["queues"]["1"]["history"]["queue_size"] == {str(start): 5}


def test_it_drops_agents_when_the_panel_is_off():
    state = compute(config(show_agents=False), [agent("ann")], {}, {}, None, NOW)
    assert state["agents"] == {}
