"""What keeps one web process serving a thousand screens: shared compression, one display check,
cached snapshots (bench/fanout.py and bench/reconnect_storm.py measure them)."""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
import zlib

import orjson
import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import TEXT as OP_TEXT
from websockets.frames import Frame

from tests.pipeline_helpers import WebsocketCommunicator, add_display, display_cookie, queries_in_the_database_thread
from wallboard.asgi import application
from wallboard.boards import access
from wallboard.boards.models import Board, Display, Tenant
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


SCREENS = 20
HEADERS = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]


@database_sync_to_async
def make_display() -> tuple[Display, bytes]:
    """A display of the lobby board, and the Cookie header's value from its TV."""
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t")
    display, cookie = add_display(Board.objects.create(slug="lobby", title="Lobby", tenant=tenant))
    return display, display_cookie(cookie)




@pytest.mark.django_db(transaction=True)
async def test_it_checks_a_display_once_for_many_screens_at_once(monkeypatch, redis_client):
    """Many screens of one display asking in the same instant cost one query, not one each.

    The screens connect (and their first answers are cached); then the database thread is held
    busy and the cache is turned off while every screen's next check comes due, so all of them
    ask at once. Without the shared check each would queue a query of its own.
    """
    monkeypatch.setattr(consumers, "ACCESS_CHECK_SECONDS", 0.05)
    monkeypatch.setattr(consumers, "ACTIVE_CACHE_SECONDS", 3600.0)
    # Answers are cached per display id for the whole process and test databases hand the same
    # ids out again, so an answer left by an earlier test could stand in for this test's.
    consumers.answers.clear()
    display, cookie = await make_display()
    one_question = await queries_in_the_database_thread(
        lambda: database_sync_to_async(access.display_is_active)(display.pk))
    screens = [WebsocketCommunicator(application, "/ws/boards/lobby/", [*HEADERS, (b"cookie", cookie)])
               for _ in range(SCREENS)]
    for screen in screens:
        connected, code = await screen.connect()
        assert connected, code
        assert orjson.loads(await screen.receive_from())["type"] == "status"  # admitted, not closed
    gate = threading.Event()

    holding = threading.Event()

    def hold_the_database_thread() -> None:
        holding.set()
        gate.wait()

    async def all_due_at_once() -> None:
        busy = asyncio.ensure_future(database_sync_to_async(hold_the_database_thread)())
        # Only once the thread is held: on a loaded machine a screen's check could otherwise
        # reach the thread first, be answered at once, and a second round ask again.
        while not holding.is_set():
            await asyncio.sleep(0.005)
        monkeypatch.setattr(consumers, "ACTIVE_CACHE_SECONDS", 0.0)  # every cached answer stale
        await asyncio.sleep(30 * consumers.ACCESS_CHECK_SECONDS)  # every screen's check comes due
        monkeypatch.setattr(consumers, "ACTIVE_CACHE_SECONDS", 3600.0)  # later rounds: cached
        gate.set()
        await busy
        await asyncio.sleep(20 * consumers.ACCESS_CHECK_SECONDS)
    try:
        during = await queries_in_the_database_thread(all_due_at_once)
    finally:
        for screen in screens:
            await screen.disconnect()
    assert len(one_question) == 1 and '"boards_display"' in one_question[0]
    # Each question (still active? still showing this board?) asked once for all the screens,
    # not once per screen. Whether the second is asked again depends on when its cached answer
    # is read relative to the window, which a loaded machine moves; it is never asked twice.
    questions = [re.sub(r"'[^']*'", "?", sql) for sql in during]
    assert 1 <= len(questions) <= 2 and len(set(questions)) == len(questions), during
    assert any('"boards_display"."revoked" IS NULL' in sql for sql in during), during


@pytest.fixture
def stored_board(redis_client):
    # A fresh epoch: snapshots are cached per board for the whole process, and one cached by an
    # earlier test under the same (epoch, seq) would otherwise answer for this one.
    head = store.BoardHead(uuid.uuid4().hex, 5, "2026-11-22T10:00:00+00:00", '{"state":"ok"}')
    store.save("lobby", head, store.fragments_of({"queues": {}, "agents": {}}), replace=True)
    return head


def state_reads(redis_client) -> int:
    """Whole-state reads since the last CONFIG RESETSTAT: store.load is the one MULTI/EXEC reader."""
    return redis_client.info("commandstats").get("cmdstat_exec", {}).get("calls", 0)


def test_it_serves_snapshots_from_the_cache_while_epoch_and_seq_hold(stored_board, redis_client):
    redis_client.config_resetstat()
    first = consumers.snapshot_text("lobby")
    assert first is not None and state_reads(redis_client) == 1
    assert all(consumers.snapshot_text("lobby") == first for _ in range(50))
    assert state_reads(redis_client) == 1, "fifty screens, one read of the whole state"
    stored_board.seq = 6
    store.save("lobby", stored_board, store.fragments_of({"queues": {"1": {"id": "1"}}, "agents": {}}), replace=True)
    redis_client.config_resetstat()
    changed = consumers.snapshot_text("lobby")
    assert state_reads(redis_client) == 1 and '"seq":6' in changed and '"1":{"id":"1"}' in changed


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
