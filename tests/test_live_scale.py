"""What keeps one web process serving a thousand screens: shared compression, one display check,
cached snapshots (bench/fanout.py and bench/reconnect_storm.py measure them)."""

from __future__ import annotations

import asyncio
import zlib

import orjson
import pytest
from channels.layers import get_channel_layer
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import TEXT as OP_TEXT
from websockets.frames import Frame

from wallboard.live import consumers, store, wsprotocol
from wallboard.live.layer import SharedPubSubChannelLayer


def negotiate():
    """A server extension as a browser's offer (no parameters) negotiates it."""
    response, ext = wsprotocol.deflate_factory().process_request_params([], [])
    return dict(response), ext


def message(size: int = 60_000) -> bytes:
    ops = [{"op": "replace", "path": f"/queues/{i}/metrics/queue_size", "value": i % 7} for i in range(size // 60)]
    return orjson.dumps({"type": "patch", "ops": ops})


def test_it_negotiates_deflate_without_context_takeover():
    response, ext = negotiate()
    assert "server_no_context_takeover" in response and "client_no_context_takeover" in response
    assert ext.local_no_context_takeover and ext.remote_no_context_takeover
    assert isinstance(ext, wsprotocol.SharedPerMessageDeflate)


def test_it_compresses_a_large_message_once_for_every_connection():
    wsprotocol.shared_frames.entries.clear()
    payload = message()
    misses = wsprotocol.shared_frames.misses
    frames = [negotiate()[1].encode(Frame(OP_TEXT, payload)) for _ in range(50)]
    assert wsprotocol.shared_frames.misses == misses + 1
    assert len({bytes(f.data) for f in frames}) == 1
    assert all(f.rsv1 for f in frames)
    assert len(frames[0].data) < len(payload) / 4
    # What a browser inflates is the message itself.
    assert zlib.decompressobj(wbits=-15).decompress(bytes(frames[0].data) + b"\x00\x00\xff\xff") == payload


def test_it_leaves_small_messages_to_each_connection():
    wsprotocol.shared_frames.entries.clear()
    negotiate()[1].encode(Frame(OP_TEXT, b'{"type":"patch","ops":[]}'))
    assert not wsprotocol.shared_frames.entries


def test_it_keeps_only_the_last_few_large_messages():
    wsprotocol.shared_frames.entries.clear()
    for i in range(wsprotocol.SHARE_MAX_ENTRIES + 5):
        negotiate()[1].encode(Frame(OP_TEXT, message(3000) + b" " * i))
    assert len(wsprotocol.shared_frames.entries) == wsprotocol.SHARE_MAX_ENTRIES


def test_it_is_understood_by_a_websockets_client():
    """Interoperability: the client side of websockets decodes what the server side encodes."""
    response, server = negotiate()
    client = ClientPerMessageDeflateFactory(client_max_window_bits=True).process_response_params(
        list(response.items()), []
    )
    payload = message()
    for _ in range(3):
        assert client.decode(server.encode(Frame(OP_TEXT, payload))).data == payload


async def test_it_checks_a_display_once_for_many_screens_at_once(monkeypatch):
    calls = []

    def display_is_active(display_id):
        calls.append(display_id)
        return True

    monkeypatch.setattr("wallboard.boards.access.display_is_active", display_is_active)
    monkeypatch.setattr("wallboard.live.consumers.database_sync_to_async", lambda f: _to_async(f))
    consumers._active_cache.clear()
    screens = []
    for _ in range(200):
        screen = consumers.BoardConsumer.__new__(consumers.BoardConsumer)
        screen.display_id = 7
        screens.append(screen)
    answers = await asyncio.gather(*(s._display_still_active() for s in screens))
    assert all(answers) and calls == [7]


def _to_async(func):
    async def run(*args):
        await asyncio.sleep(0.01)  # the database thread takes a moment
        return func(*args)

    return run


@pytest.fixture
def stored_board(redis_client):
    head = store.BoardHead("e1", 5, "2026-11-22T10:00:00+00:00", '{"state":"ok"}')
    store.save("lobby", head, store.fragments_of({"queues": {}, "agents": {}}), replace=True)
    consumers._snapshots.clear()
    return head


def test_it_serves_snapshots_from_the_cache_while_epoch_and_seq_hold(stored_board, monkeypatch):
    loads = []
    real_load = store.load
    monkeypatch.setattr(store, "load", lambda slug, client=None: loads.append(slug) or real_load(slug, client))
    first = consumers.snapshot_text("lobby")
    assert consumers.snapshot_text("lobby") == first and len(loads) == 1
    stored_board.seq = 6
    store.save("lobby", stored_board, store.fragments_of({"queues": {"1": {"id": "1"}}, "agents": {}}), replace=True)
    changed = consumers.snapshot_text("lobby")
    assert len(loads) == 2 and '"seq":6' in changed and '"1":{"id":"1"}' in changed


def test_it_forgets_the_cached_snapshot_when_redis_lost_the_board(stored_board):
    assert consumers.snapshot_text("lobby") is not None
    store.delete("lobby")
    assert consumers.snapshot_text("lobby") is None


async def _group_members_receive(layer, members: int, message: dict) -> list[dict]:
    channels = [await layer.new_channel() for _ in range(members)]
    for channel in channels:
        await layer.group_add("board.scale-test", channel)
    try:
        await layer.group_send("board.scale-test", message)
        return await asyncio.wait_for(asyncio.gather(*(layer.receive(c) for c in channels)), 5)
    finally:
        for channel in channels:
            await layer.group_discard("board.scale-test", channel)


@pytest.mark.asyncio
async def test_it_decodes_a_group_message_once_for_every_screen_of_the_process(settings):
    layer = get_channel_layer()
    assert isinstance(layer, SharedPubSubChannelLayer)
    try:
        text = "x" * 60_000
        received = await _group_members_receive(layer, 20, {"type": "board.message", "text": text})
        again = await _group_members_receive(layer, 2, {"type": "board.message", "text": text})
    finally:
        await layer.flush()
    assert all(r == {"type": "board.message", "text": text} for r in received)
    # Each decode makes its own 60 kB string: one string shared by all 20 is one decode.
    assert received[0]["text"] is not text, "it came through Redis"
    assert len({id(r["text"]) for r in received}) == 1, "one text shared by every screen"
    # The next message is decoded afresh (the sharing is per message, not a stale copy).
    assert again[0]["text"] is again[1]["text"] and again[0]["text"] is not received[0]["text"]
    assert len({id(r) for r in received}) == 20, "each consumer has its own dict"
    received[0]["type"] = "changed"
    assert received[1]["type"] == "board.message"
