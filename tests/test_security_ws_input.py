"""What a page may send on the board websocket: `{"type": "resync"}` and nothing big or deep.

A flood of deeply nested JSON used to raise RecursionError in the consumer, drop the socket
without a close code and log a traceback per frame. Now a frame no page of ours would send
closes the socket with a documented code (docs/protocol.md), logged once, never as an error.
"""

from __future__ import annotations

import json
import logging

import pytest
from channels.db import database_sync_to_async

from tests.pipeline_helpers import WebsocketCommunicator, add_display
from wallboard.asgi import application
from wallboard.boards import access
from wallboard.boards.models import Board, Tenant
from wallboard.live import consumers

pytestmark = pytest.mark.django_db(transaction=True)
HEADERS = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]


@database_sync_to_async
def display_cookie() -> bytes:
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t")
    _, cookie = add_display(Board.objects.create(slug="support", title="Support", tenant=tenant))
    return f"{access.DISPLAY_COOKIE}={cookie}".encode()


@pytest.fixture
async def screen(monkeypatch):
    """An open board socket whose first message has been read.

    Its access checks always ask the database: an answer left by an earlier test (test
    databases hand the same display ids out again) never stands in for this one's.
    """
    monkeypatch.setattr(consumers, "ACTIVE_CACHE_SECONDS", 0.0)
    communicator = WebsocketCommunicator(application, "/ws/boards/support/", [*HEADERS, (b"cookie", await display_cookie())])
    connected, code = await communicator.connect()
    assert connected, code
    await communicator.receive_from()
    yield communicator
    if not communicator.future.done():  # a failed receive cancels the application
        await communicator.disconnect()


def problems(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


async def closed_with(communicator: WebsocketCommunicator) -> int:
    """The close code, which must be the only thing the server sends."""
    message = await communicator.receive_output(5)
    assert message["type"] == "websocket.close", message
    assert not await communicator.has_output(0.3), "something was sent after the close"
    return message["code"]


async def test_it_closes_on_a_flood_of_deeply_nested_json_without_a_traceback(screen, caplog):
    caplog.set_level(logging.INFO)
    for _ in range(500):
        await screen.send_input({"type": "websocket.receive", "text": "[" * 20000})
    assert await closed_with(screen) == 1009
    assert not problems(caplog)
    assert len([r for r in caplog.records if r.name.startswith("wallboard")]) <= 1, "one line, not one per frame"


async def test_it_closes_on_deep_json_small_enough_to_parse(screen, caplog):
    # Under the size limit yet deeper than the JSON parser can recurse: refused, no RecursionError.
    await screen.send_input({"type": "websocket.receive", "text": "[" * 1000})
    assert await closed_with(screen) == 1008
    assert not problems(caplog)


@pytest.mark.parametrize("text", ["not json", "[]", '"resync"', "1e999999", '{"type": "resync"'])
async def test_it_closes_on_anything_but_a_json_object(screen, caplog, text):
    await screen.send_input({"type": "websocket.receive", "text": text})
    assert await closed_with(screen) == 1008
    assert not problems(caplog)


async def test_it_closes_on_a_binary_frame(screen, caplog):
    await screen.send_input({"type": "websocket.receive", "bytes": b"[" * 20000})
    assert await closed_with(screen) == 1003
    assert not problems(caplog)


async def test_it_ignores_an_unknown_message_type_and_still_answers_a_resync(screen):
    await screen.send_input({"type": "websocket.receive", "text": json.dumps({"type": "hello", "x": [[[1]]]})})
    assert not await screen.has_output(0.3)
    await screen.send_json_to({"type": "resync"})
    assert json.loads(await screen.receive_from())["board"] == "support"
