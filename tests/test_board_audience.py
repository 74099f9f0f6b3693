"""One listener per board per web process, held messages, shared handshakes (issue 23).

The real ASGI application and a real Redis channel layer: a board's screens in one process are
one member of the board's group, a message arriving while a screen's snapshot is read reaches it
after the snapshot, and the screens of one display connecting together share one authorisation.
"""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from tests.pipeline_helpers import (
    WebsocketCommunicator,
    add_display,
    display_cookie,
    queries_in_the_database_thread,
    receive,
    refused_with,
)
from wallboard.asgi import application
from wallboard.boards.models import Board, Display, Tenant
from wallboard.live import consumers
from wallboard.live.publish import board_group, send_board_texts

pytestmark = pytest.mark.django_db(transaction=True)

SCREENS = 8
MESSAGES = 12
STORM = 20
HEADERS = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]


@database_sync_to_async
def make_display(slug: str) -> tuple[Display, bytes]:
    """A board with nothing polled yet, a display of it, and the Cookie header's value from its TV."""
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t")
    display, cookie = add_display(Board.objects.create(slug=slug, title="Lobby", tenant=tenant))
    return display, display_cookie(cookie)


def screen(slug: str, cookie: bytes) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/boards/{slug}/", [*HEADERS, (b"cookie", cookie)])


async def connected(slug: str, cookie: bytes) -> WebsocketCommunicator:
    """A screen that is in, past its first message (a pending status: nothing polled yet)."""
    comm = screen(slug, cookie)
    ok, code = await comm.connect()
    assert ok, code
    assert (await receive(comm))["type"] == "status"
    return comm


def group_members(slug: str) -> set[str]:
    """The channels this process has in the board's group (the pub/sub layer keeps them per loop)."""
    layer = get_channel_layer()
    return set(layer.groups.get(f"{layer.prefix}__group__{board_group(slug)}", set()))


async def publish(slug: str, texts: list[str]) -> None:
    """Publish as the workers do: the one publish path, from a thread of its own."""
    assert await sync_to_async(send_board_texts, thread_sensitive=False)(slug, texts)


def numbered(count: int, start: int = 0) -> list[str]:
    return [json.dumps({"type": "status", "n": n}) for n in range(start, start + count)]




async def test_it_puts_one_channel_per_board_in_the_group_and_each_message_reaches_each_screen_once(redis_client):
    _, cookie = await make_display("audience")
    screens = [await connected("audience", cookie) for _ in range(SCREENS)]
    assert len(group_members("audience")) == 1
    texts = numbered(MESSAGES)
    await publish("audience", texts)
    for comm in screens:
        assert [await comm.receive_from() for _ in texts] == texts
        assert not await comm.has_output(0.2)  # exactly once: nothing after the last one
    for comm in screens:
        await comm.disconnect()
    assert group_members("audience") == set()


async def test_it_sends_a_message_that_arrives_during_the_snapshot_after_it(monkeypatch, redis_client):
    """Held with the snapshot read: a message published meanwhile follows the snapshot, none lost."""
    _, cookie = await make_display("held")
    first = await connected("held", cookie)  # receives what the board's process receives
    reading, release = threading.Event(), threading.Event()
    real = consumers.snapshot_text

    def slow_snapshot(slug: str) -> str | None:
        reading.set()
        assert release.wait(10), "the test never released the snapshot"
        return real(slug)

    monkeypatch.setattr(consumers, "snapshot_text", slow_snapshot)
    late = screen("held", cookie)
    await late.send_input({"type": "websocket.connect"})
    assert (await late.receive_output(5))["type"] == "websocket.accept"
    assert await asyncio.to_thread(reading.wait, 10)
    texts = numbered(3)
    await publish("held", texts)
    # The first screen has it, so the process has it while the late one's snapshot is held.
    assert [await first.receive_from() for _ in texts] == texts
    release.set()
    snapshot = await receive(late)
    assert snapshot["type"] == "status" and "n" not in snapshot  # the snapshot (pending: nothing polled)
    assert [await late.receive_from() for _ in texts] == texts
    more = numbered(2, start=3)
    await publish("held", more)
    assert [await late.receive_from() for _ in more] == more
    await first.disconnect()
    await late.disconnect()


async def storm(slug: str, cookie: bytes, count: int) -> list[WebsocketCommunicator]:
    """`count` screens of one display whose handshakes all wait for the database thread together.

    The thread is held until every handshake is queued behind it, as after a restart, when
    thousands reconnect within seconds; then each screen must be let in.
    """
    gate, holding = threading.Event(), threading.Event()

    def hold_the_database_thread() -> None:
        holding.set()
        gate.wait(10)

    held = asyncio.ensure_future(database_sync_to_async(hold_the_database_thread)())
    assert await asyncio.to_thread(holding.wait, 10)
    screens = [screen(slug, cookie) for _ in range(count)]
    for comm in screens:
        await comm.send_input({"type": "websocket.connect"})
    for _ in range(10):
        await asyncio.sleep(0)  # each handshake runs up to its first wait for the database thread
    gate.set()
    await held
    for comm in screens:
        assert (await comm.receive_output(5))["type"] == "websocket.accept"
        assert (await receive(comm))["type"] == "status"  # let in, not closed
    return screens


async def test_it_authorises_the_screens_of_a_display_connecting_together_once(redis_client):
    display, cookie = await make_display("storm")
    screens: list[WebsocketCommunicator] = []

    async def connect_all() -> None:
        screens.extend(await storm("storm", cookie, STORM))

    queries = await queries_in_the_database_thread(connect_all)
    display_reads = [sql for sql in queries if 'FROM "boards_display"' in sql]
    assert 1 <= len(display_reads) <= STORM // 4, f"{len(display_reads)} display reads for {STORM} handshakes"
    for comm in screens:
        await comm.disconnect()


async def test_it_refuses_a_display_revoked_after_its_screens_shared_a_check(redis_client):
    """Only a check in progress is shared: none is kept for the handshakes after it."""
    display, cookie = await make_display("revoked")
    screens = await storm("revoked", cookie, STORM)
    await database_sync_to_async(Display.objects.filter(pk=display.pk).update)(revoked=timezone.now())
    assert await refused_with(screen("revoked", cookie)) == consumers.CLOSE_FORBIDDEN
    for comm in screens:
        await comm.disconnect()
