"""Boards of one tenant share what they have in common within a cycle (issue 21: large boards).

Tiles, sections and agent entries that several boards show are built, diffed and serialised
once per cycle; every board must still get exactly the state, the patch and the stored
fragments it would get on its own.
"""

import json
from dataclasses import replace

import jsonpatch
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from wallboard.boards.state import (
    BoardConfig,
    GroupConf,
    QueueConf,
    TenantSnapshot,
    ThresholdConf,
    compute_board_state,
    compute_boards,
)
from wallboard.live.diff import make_patch
from wallboard.live.store import SECTIONS, StateSerialiser, assemble
from wallboard.vcc.records import Agent, Queue

NOW = 1_763_800_000 - 1_763_800_000 % 60
QUEUE_IDS = ("1", "2", "3", "4")
GROUP_IDS = ("101", "102", "103")
THRESHOLDS = (ThresholdConf("queue_size", "", "above", 2, 4), ThresholdConf("queue_size", "2", "above", 1, 3))
SCHEDULES = {"s1": {"status": -1, "label": "CLOSED", "state": "closed", "name": "Hours", "next_change": None,
                    "next_state": None, "exception": None, "source": "api"}}


def queue(qid, size, wait):
    return Queue(queue_id=qid, queue_name=f"Queue {qid}", media_type="phone", queue_size=size, longest_wait_time=wait,
                 day_queued=size * 3)


def agent(aid, status, since, group):
    return Agent(agent_id=aid, agent_name=aid.title(), agent_status=status, time_in_status=since, group_id=group,
                 agent_media_id=1)


def board(slug, queue_ids=QUEUE_IDS, labels=(), schedule="", groups=(), thresholds=(), mute=True, group_tile=False):
    queues = tuple(QueueConf(q, label=q in labels and f"Label {q}" or "", schedule_id=schedule if q == "3" else "")
                   for q in queue_ids)
    tiles = (GroupConf("all", "All", tuple(queue_ids[:3])),) if group_tile else ()
    return BoardConfig(slug=slug, title=slug, queue_metrics=("queue_size", "longest_wait_time"), queues=queues,
                       groups=tiles, agent_groups={g: f"Group {g}" for g in groups}, thresholds=thresholds,
                       mute_when_closed=mute)


def snapshot(queues, agents):
    return TenantSnapshot.from_records(agents, queues)


boards = st.builds(
    board,
    slug=st.just("b"),
    queue_ids=st.lists(st.sampled_from(QUEUE_IDS), min_size=1, max_size=4, unique=True).map(tuple),
    labels=st.sampled_from(((), ("1",))),
    schedule=st.sampled_from(("", "s1")),
    groups=st.lists(st.sampled_from(GROUP_IDS), max_size=2, unique=True).map(tuple),
    thresholds=st.sampled_from(((), THRESHOLDS[:1], THRESHOLDS)),
    mute=st.booleans(),
    group_tile=st.booleans(),
)
cycles = st.lists(
    st.tuples(
        st.sampled_from((10, 10, 30, 60, 3600)),  # seconds since the previous cycle
        st.lists(st.tuples(st.integers(0, 5), st.integers(0, 200)), min_size=4, max_size=4),
        st.lists(st.tuples(st.sampled_from((0, 2, 4)), st.integers(0, 40), st.sampled_from(GROUP_IDS)), min_size=4, max_size=4),
    ),
    min_size=2,
    max_size=5,
)


def records(figures, people):
    queues = [queue(q, size, wait) for q, (size, wait) in zip(QUEUE_IDS, figures, strict=True)]
    agents = [agent(f"a{n}", status, since, group) for n, (status, since, group) in enumerate(people)]
    return queues, agents


@settings(max_examples=150, deadline=None)
@given(st.lists(boards, min_size=1, max_size=5), cycles)
def test_it_gives_each_board_the_state_it_would_have_alone(configs, steps):
    configs = [replace(c, slug=f"b{n}") for n, c in enumerate(configs)]
    previous: dict = {}
    now = NOW
    for seconds, figures, people in steps:
        now += seconds
        queues, agents = records(figures, people)
        states = compute_boards(configs, snapshot(queues, agents), SCHEDULES, previous, now)
        last_agents: dict = {}
        for state in previous.values():
            last_agents.update(state["agents"])
        for config in configs:
            alone = snapshot(queues, agents)
            alone.prepare_agents(last_agents, now)
            assert states[config.slug] == compute_board_state(config, alone, SCHEDULES, previous.get(config.slug), now)
        previous = states


def test_it_shares_tiles_and_sections_between_boards_showing_the_same():
    configs = [board("a"), board("b"), board("c", queue_ids=("2", "3")), board("d", groups=("101",))]
    queues, agents = records([(1, 5), (2, 6), (3, 7), (4, 8)], [(0, 5, "101"), (2, 9, "102"), (4, 1, "101"), (0, 3, "103")])
    previous: dict = {}
    for cycle in range(3):
        states = compute_boards(configs, snapshot(queues, agents), {}, previous, NOW + 10 * cycle)
        a, b, c, d = (states[slug] for slug in "abcd")
        assert a["queues"] is b["queues"] and a["agents"] is b["agents"]
        assert c["queues"]["2"] is a["queues"]["2"], "a queue on two boards is one tile"
        assert d["agents"]["a0"] is a["agents"]["a0"]
        assert list(d["agents"]) == ["a0", "a2"]
        previous = states


def test_it_shares_again_after_boards_are_read_back_each_on_its_own():
    configs = [board("a"), board("b")]
    queues, agents = records([(1, 5), (2, 6), (3, 7), (4, 8)], [(0, 5, "101")])
    first = compute_boards(configs, snapshot(queues, agents), {}, {}, NOW)
    # As after a restart: each board's state parsed from Redis, no object in common.
    read_back = {slug: orjson.loads(orjson.dumps(state)) for slug, state in first.items()}
    again = compute_boards(configs, snapshot(queues, agents), {}, read_back, NOW + 10)
    assert again["a"]["queues"] is again["b"]["queues"]
    assert again["a"] == first["a"] and again["b"] == first["b"]


@settings(max_examples=100, deadline=None)
@given(st.lists(boards, min_size=2, max_size=4), cycles)
def test_it_gives_each_board_its_own_patch_and_fragments_when_boards_share(configs, steps):
    configs = [replace(c, slug=f"b{n}") for n, c in enumerate(configs)]
    together = {c.slug: StateSerialiser() for c in configs}
    alone = {c.slug: StateSerialiser() for c in configs}
    browsers: dict = {}
    previous: dict = {}
    now = NOW
    for seconds, figures, people in steps:
        now += seconds
        states = compute_boards(configs, snapshot(*records(figures, people)), SCHEDULES, previous, now)
        patch_memo: dict = {}
        fragment_memo: dict = {}
        for config in configs:
            state = states[config.slug]
            if config.slug in browsers:
                ops = make_patch(previous[config.slug], state, patch_memo)
                assert ops == make_patch(previous[config.slug], state)
                # A browser's copy shares nothing: a JSON round trip, patched.
                browsers[config.slug] = jsonpatch.apply_patch(browsers[config.slug], json.loads(json.dumps(ops)))
            else:
                browsers[config.slug] = json.loads(json.dumps(state))
            assert browsers[config.slug] == state
            together[config.slug].update(state, fragment_memo)
            alone[config.slug].update(state)
            fields = together[config.slug].fields()
            assert fields == alone[config.slug].fields()
            assert together[config.slug].changed == alone[config.slug].changed
            assert together[config.slug].removed == alone[config.slug].removed
            for section, prefix in SECTIONS.items():
                for entry_id, entry in state[section].items():
                    # Byte for byte what orjson makes of the entry, history included.
                    assert fields[prefix + entry_id.encode()] == orjson.dumps(entry_id) + b":" + orjson.dumps(entry)
            assert orjson.loads(assemble(fields)) == state
        previous = states


def test_it_serialises_a_section_that_boards_share_once():
    configs = [board("a"), board("b")]
    queues, agents = records([(1, 5), (2, 6), (3, 7), (4, 8)], [(0, 5, "101"), (2, 9, "102")])
    serialisers = {"a": StateSerialiser(), "b": StateSerialiser()}
    previous: dict = {}
    for cycle in range(2):
        states = compute_boards(configs, snapshot(queues, agents), {}, previous, NOW + 10 * cycle)
        memo: dict = {}
        for slug in "ab":
            serialisers[slug].update(states[slug], memo)
        a, b = serialisers["a"].fields(), serialisers["b"].fields()
        entries = [name for name in a if not name.startswith(b"s:")]  # the board's own part aside
        assert entries and all(a[name] is b[name] for name in entries), "each fragment made once"
        previous = states
        queues = [queue(q.queue_id, q.queue_size + 1, q.longest_wait_time) for q in queues]
