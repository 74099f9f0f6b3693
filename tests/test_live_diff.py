"""The JSON Patch differ: its patches, applied by an independent library, give the new state."""

import copy
import json

import jsonpatch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallboard.live.diff import escape, make_patch

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(-2, 2, allow_nan=False), st.text(max_size=3))
keys = st.text(alphabet="ab/~1", min_size=0, max_size=3)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values, json_values)
def test_it_turns_any_value_into_any_other(old, new):
    ops = make_patch(old, new)
    assert jsonpatch.apply_patch(copy.deepcopy(old), ops) == new


def test_it_gives_no_ops_for_equal_states():
    state = {"queues": {"1": {"metrics": {"queue_size": 3}}}}
    assert make_patch(state, copy.deepcopy(state)) == []


def test_it_replaces_only_the_changed_value():
    old = {"queues": {"1": {"metrics": {"queue_size": 3, "longest_wait_time": 10}}}}
    new = copy.deepcopy(old)
    new["queues"]["1"]["metrics"]["queue_size"] = 4
    assert make_patch(old, new) == [{"op": "replace", "path": "/queues/1/metrics/queue_size", "value": 4}]


def test_it_adds_and_removes_keyed_items():
    old = {"agents": {"a": {"state": "busy"}, "b": {"state": "available"}}}
    new = {"agents": {"b": {"state": "available"}, "c": {"state": "on_break"}}}
    assert make_patch(old, new) == [
        {"op": "remove", "path": "/agents/a"},
        {"op": "add", "path": "/agents/c", "value": {"state": "on_break"}},
    ]


def test_it_tells_booleans_from_integers():
    assert make_patch({"x": 1}, {"x": True}) == [{"op": "replace", "path": "/x", "value": True}]
    assert make_patch({"x": 1}, {"x": 1.0}) == [{"op": "replace", "path": "/x", "value": 1.0}]


def test_it_escapes_pointer_tokens():
    assert escape("a/b~c") == "a~1b~0c"
    ops = make_patch({}, {"a/b": 1})
    assert ops == [{"op": "add", "path": "/a~1b", "value": 1}]


def test_it_stores_states_as_fragments_that_join_back_exactly():
    import orjson

    from wallboard.live.store import StateSerialiser, assemble

    serialiser = StateSerialiser()
    ann = {"id": "ann", "state": "busy", "status_since": 5}
    state = {"board": {"slug": "b"}, "queues": {"1": {"id": "1"}}, "groups": {}, "agents": {"ann": ann, "b/o": {"id": "b/o"}}}
    first = serialiser.fragments(state)
    assert orjson.loads(assemble(first)) == state
    # Next cycle: one agent is the same object, one changed, one new, one gone.
    state2 = {**state, "agents": {"ann": ann, "cy": {"id": "cy", "name": 'Cy "Q"'}}}
    second = serialiser.fragments(state2)
    assert orjson.loads(assemble(second)) == state2
    assert second[b"a:ann"] is first[b"a:ann"], "an unchanged entry is not serialised again"
    assert set(serialiser.changed) == {b"a:cy"}
    assert serialiser.removed == [b"a:b/o"]
    # A changed entry that is a new object is serialised again, never served stale.
    state3 = {**state2, "queues": {"1": {"id": "1", "metrics": {"queue_size": 2}}}}
    assert orjson.loads(assemble(serialiser.fragments(state3)))["queues"]["1"]["metrics"]["queue_size"] == 2
    assert set(serialiser.changed) == {b"q:1"} and serialiser.removed == []
    # One gone and one new in the same cycle: the counts match, the removal must still be seen.
    state4 = {**state3, "agents": {"ann": ann, "dee": {"id": "dee"}}}
    serialiser.fragments(state4)
    assert set(serialiser.changed) == {b"a:dee"} and serialiser.removed == [b"a:cy"]
    # A whole section or scalar going away is seen too.
    serialiser.update({"board": {}, "queues": {}})
    assert set(serialiser.removed) == {b"q:1", b"a:ann", b"a:dee"}
    assert orjson.loads(assemble(StateSerialiser().fragments({"board": {}, "queues": {}, "groups": {}, "agents": {}}))) == {
        "board": {}, "queues": {}, "groups": {}, "agents": {}}


@settings(max_examples=200, deadline=None)
@given(json_values, json_values)
def test_it_gives_the_same_patch_when_scanning_objects_in_bulk(old, new):
    from wallboard.live import diff

    expected = make_patch(old, new)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(diff, "BULK_SCAN_FROM", 0)  # every object through the C-level identity scan
        assert make_patch(old, new) == expected


def test_it_finds_changed_values_among_many_keys_in_bulk():
    entries = {str(i): {"id": str(i), "state": "busy"} for i in range(40)}
    old = {"agents": entries}
    new = {"agents": {**entries, "7": {"id": "7", "state": "available"}, "30": {"id": "30", "state": "busy"}}}
    assert make_patch(old, new) == [{"op": "replace", "path": "/agents/7/state", "value": "available"}]
    # Same keys in another order is not the bulk case, and still right.
    reordered = {"agents": dict(reversed(list(new["agents"].items())))}
    assert jsonpatch.apply_patch(copy.deepcopy(old), make_patch(old, reordered)) == reordered


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(json_values, json_values), min_size=1, max_size=4), st.lists(st.integers(0, 3), max_size=8))
def test_it_gives_each_board_its_own_patch_when_boards_share_entries(pairs, picks):
    # Boards built from one pool of entry objects, diffed with one memo as the poller does.
    boards = []
    for n in range(3):
        chosen = [pairs[i % len(pairs)] for i in picks[n:] + [n]]
        old = {"agents": {str(k): o for k, (o, _) in enumerate(chosen)}}
        new = {"agents": {str(k): w for k, (_, w) in enumerate(chosen)}}
        boards.append((old, new))
    memo: dict = {}
    for old, new in boards:
        assert make_patch(old, new, memo) == make_patch(old, new)
        # A JSON round trip, not deepcopy: the browser's copy shares no objects between entries.
        assert jsonpatch.apply_patch(json.loads(json.dumps(old)), make_patch(old, new, memo)) == new
