"""The page's pure modules (JSON Patch, backoff, formatting) run in Chromium itself."""

from __future__ import annotations

import copy

import jsonpatch
import pytest

pytestmark = pytest.mark.browser

DOC = {"a/b": 1, "m~n": 2, "list": [1, 2, 3], "obj": {"x": {"y": [{"z": 1}]}}, "": "empty key"}

CASES = [
    [{"op": "add", "path": "/new", "value": {"k": [1]}}],
    [{"op": "add", "path": "/list/-", "value": 4}],
    [{"op": "add", "path": "/list/0", "value": 0}],
    [{"op": "remove", "path": "/a~1b"}],
    [{"op": "replace", "path": "/m~0n", "value": "tilde"}],
    [{"op": "replace", "path": "/", "value": "empty key replaced"}],
    [{"op": "move", "from": "/obj/x/y/0", "path": "/moved"}],
    [{"op": "move", "from": "/list/0", "path": "/list/2"}],
    [{"op": "copy", "from": "/obj", "path": "/copied"}, {"op": "replace", "path": "/copied/x/y/0/z", "value": 9}],
    [{"op": "test", "path": "/obj/x/y/0/z", "value": 1}, {"op": "remove", "path": "/list/1"}],
    [{"op": "replace", "path": "", "value": [1, 2]}],
]

BAD = [
    [{"op": "test", "path": "/list", "value": [1, 2]}],
    [{"op": "remove", "path": "/missing"}],
    [{"op": "replace", "path": "/missing", "value": 1}],
    [{"op": "add", "path": "/list/9", "value": 1}],
    [{"op": "add", "path": "/list/01", "value": 1}],
    [{"op": "move", "from": "/obj", "path": "/obj/x/inside"}],
    [{"op": "bogus", "path": "/a"}],
    [{"op": "add", "path": "a", "value": 1}],
    [{"op": "remove", "path": "/x~2"}],
]


@pytest.fixture
def module_page(page, page_server):
    page.goto(page_server.add("/blank/", "<!doctype html><title>units</title>"))
    return page


def apply_in_browser(page, doc, ops):
    return page.evaluate(
        """async ([doc, ops]) => {
            const m = await import('/static/wallboard/js/jsonpatch.js');
            try { return {ok: true, doc: m.applyPatch(doc, ops)}; }
            catch (e) { return {ok: false, error: e.name + ': ' + e.message}; }
        }""",
        [doc, ops],
    )


@pytest.mark.parametrize("ops", CASES, ids=[str(i) for i in range(len(CASES))])
def test_it_applies_json_patch_like_the_reference(module_page, ops):
    expected = jsonpatch.apply_patch(copy.deepcopy(DOC), ops)
    result = apply_in_browser(module_page, DOC, ops)
    assert result == {"ok": True, "doc": expected}


def test_it_rejects_bad_patches(module_page):
    for ops in BAD:
        result = apply_in_browser(module_page, DOC, ops)
        assert result["ok"] is False and result["error"].startswith("PatchError"), (ops, result)


def test_it_backs_off_with_full_jitter_capped_at_30_seconds(module_page):
    result = module_page.evaluate(
        """async () => {
            const m = await import('/static/wallboard/js/protocol.js');
            const top = (n) => m.backoffDelay(n, {random: () => 0.999999});
            const low = m.backoffDelay(5, {random: () => 0});
            const spread = new Set(Array.from({length: 200}, () => m.backoffDelay(3)));
            return {tops: [0, 1, 2, 3, 4, 5, 10, 50].map(top), low, spread: spread.size,
                    max: Math.max(...spread)};
        }"""
    )
    assert result["tops"] == [999, 1999, 3999, 7999, 15999, 29999, 29999, 29999]
    assert result["low"] == 0
    assert result["spread"] > 50 and result["max"] < 8000


def test_it_formats_durations(module_page):
    result = module_page.evaluate(
        """async () => {
            const f = await import('/static/wallboard/js/format.js');
            return [0, 5, 65, 599, 3600, 3725, 86399, null, -3].map(f.formatDuration);
        }"""
    )
    assert result == ["0:00", "0:05", "1:05", "9:59", "1h00m", "1h02m", "23h59m", "–", "0:00"]


def test_it_builds_the_websocket_url_from_the_page_location(module_page):
    result = module_page.evaluate(
        """async () => {
            const p = await import('/static/wallboard/js/protocol.js');
            return [p.websocketUrl('/ws/boards/demo/', {protocol: 'https:', host: 'tv.example.com'}),
                    p.websocketUrl('/ws/boards/demo/', {protocol: 'http:', host: '127.0.0.1:8000'}),
                    p.websocketUrl('ws://127.0.0.1:9/ws/boards/x/', {protocol: 'https:', host: 'a'})];
        }"""
    )
    assert result == [
        "wss://tv.example.com/ws/boards/demo/",
        "ws://127.0.0.1:8000/ws/boards/demo/",
        "ws://127.0.0.1:9/ws/boards/x/",
    ]


def test_it_keeps_keyed_views_in_line_with_the_state(module_page):
    result = module_page.evaluate(
        """async () => {
            const c = await import('/static/wallboard/js/render-common.js');
            const log = [];
            const view = (id) => ({id, destroy: () => log.push(`destroy ${id}`)});
            const views = new Map([['groups/g', view('g')], ['queues/1', view('1')], ['queues/2', view('2')]]);
            const update = (v, item) => { log.push(`update ${v.id}`); return item.moved === true; };
            const create = (id) => { log.push(`create ${id}`); return view(id); };
            // A snapshot: queue 2 is gone, 3 is new, the group (another prefix) is left alone.
            const snap = c.syncViews(views, 'queues/', {1: {}, 3: {}}, null, create, update);
            const afterSnap = [...views.keys()];
            // A patch touching 1 only (an update that does not move it), then one that moves it.
            const still = c.syncViews(views, 'queues/', {1: {}, 3: {}}, new Set(['1']), create, update);
            const moved = c.syncViews(views, 'queues/', {1: {moved: true}, 3: {}}, ['1'], create, update);
            // A patch removing 3.
            const gone = c.syncViews(views, 'queues/', {1: {}}, ['3'], create, update);
            return {snap, afterSnap, still, moved, gone, keys: [...views.keys()], log};
        }"""
    )
    assert result["snap"] is True and result["still"] is False
    assert result["moved"] is True and result["gone"] is True
    assert result["afterSnap"] == ["groups/g", "queues/1", "queues/3"]
    assert result["keys"] == ["groups/g", "queues/1"]
    assert result["log"] == [
        "destroy 2", "update 1", "create 3", "update 3", "update 1", "update 1", "destroy 3",
    ]


def test_it_labels_queues_groups_metrics_and_agent_times_the_same_on_both_views(module_page):
    result = module_page.evaluate(
        """async () => {
            const c = await import('/static/wallboard/js/render-common.js');
            const state = {
                groups: {b: {id: 'b', name: 'Beta'}, a: {id: 'a', name: 'Zed', position: 0}},
                queues: {2: {id: 2, name: 'Sales'}, 1: {id: 1, name: 'Billing'}},
            };
            return {
                order: c.itemOrder(state),
                subs: [c.itemSubLabel('groups', {queue_ids: [1]}), c.itemSubLabel('groups', {queue_ids: [1, 2]}),
                       c.itemSubLabel('groups', {}), c.itemSubLabel('queues', {media_type: 'phone'})],
                levels: [c.metricLevel({x: 'alert'}, 'x', false), c.metricLevel({x: 'alert'}, 'x', true),
                         c.metricLevel({x: 'bogus'}, 'x', false), c.metricLevel({}, 'x', false)],
                schedules: [c.scheduleState({schedule: {state: 'closed'}}), c.scheduleState({}), c.scheduleState({schedule: {}})],
                times: [c.agentTime(1000, 1065000), c.agentTime(NaN, 5), c.agentTime(0, 5)],
            };
        }"""
    )
    assert result["order"] == ["groups/a", "groups/b", "queues/1", "queues/2"]
    assert result["subs"][:3] == ["Group · 1 queue", "Group · 2 queues", "Group · 0 queues"]
    assert result["subs"][3] and not result["subs"][3].startswith("Group")
    assert result["levels"] == ["alert", "ok", "ok", "ok"]
    assert result["schedules"] == ["closed", "none", "none"]
    assert result["times"] == ["1:05", "–", "–"]


def test_it_takes_the_palette_from_the_address_then_the_browser_then_the_board(module_page):
    result = module_page.evaluate(
        """async () => {
            const m = await import('/static/wallboard/js/display-options.js');
            const p = (q) => new URLSearchParams(q);
            localStorage.removeItem('wb-palette');
            const out = {
                board: m.readOptions(p(''), 'kiosk', 'cb').palette,
                none: m.readOptions(p(''), 'kiosk', undefined).palette,
                address: m.readOptions(p('palette=default'), 'kiosk', 'cb').palette,
            };
            localStorage.setItem('wb-palette', 'default');
            out.browser = m.readOptions(p(''), 'supervisor', 'cb').palette;
            localStorage.removeItem('wb-palette');
            return out;
        }"""
    )
    assert result == {"board": "cb", "none": "default", "address": "default", "browser": "default"}
