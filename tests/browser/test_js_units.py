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
