"""Shared set-up for pipeline tests: a simulator on a controllable clock, a board, a display."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wallboard.asgi import application
from wallboard.boards.access import DISPLAY_COOKIE, make_display_cookie
from wallboard.boards.models import Board, BoardQueue, Display, DisplayBoard, QueueGroup, Tenant, Threshold
from wallboard.polling.clients import client_for

# A Wednesday morning: the simulated contact center is busy.
START = datetime(2026, 11, 18, 10, 0, tzinfo=UTC).timestamp()


class Clock:
    """Simulated time that tests move by hand."""

    def __init__(self, t: float = START):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float = 10) -> None:
        self.t += seconds


def make_board(base_url: str, slug: str = "ops", queues: int = 4) -> tuple[Tenant, Board, str]:
    """A tenant on the simulator, a board with queues, a group and thresholds, and a display cookie."""
    tenant = Tenant.objects.create(name=f"Sim {slug}", base_url=base_url, tenant_name="demo", token="demo-token")
    queue_records = client_for(tenant).queues()
    board = Board.objects.create(slug=slug, title="Operations", tenant=tenant)
    for position, record in enumerate(queue_records[:queues]):
        BoardQueue.objects.create(board=board, queue_id=record.queue_id, position=position)
    QueueGroup.objects.create(board=board, name="First two", queue_ids=[q.queue_id for q in queue_records[:2]])
    Threshold.objects.create(board=board, metric="queue_size", warn=1, alert=3)
    _, cookie = add_display(board, f"TV {slug}")
    return tenant, board, cookie


def add_display(board: Board, name: str = "Lobby TV") -> tuple[Display, str]:
    """A display showing the board, and the cookie value its TV holds once it opened its URL."""
    display = Display(name=name)
    display.issue_token()
    display.save()
    DisplayBoard.objects.create(display=display, board=board)
    return display, make_display_cookie(display)


def display_cookie(cookie: str) -> bytes:
    """The Cookie header's value from a TV that holds `cookie` (add_display's second value)."""
    return f"{DISPLAY_COOKIE}={cookie}".encode()


class WebsocketCommunicator(ApplicationCommunicator):
    """A websocket client for an ASGI app in the same process.

    (channels.testing has one, but importing it needs daphne, which this project does not use.)
    """

    def __init__(self, app, path: str, headers: list[tuple[bytes, bytes]]):
        scope = {
            "type": "websocket",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
            "subprotocols": [],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        super().__init__(app, scope)

    async def connect(self, timeout: float = 5) -> tuple[bool, int | None]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        return True, None

    async def receive_from(self, timeout: float = 5) -> str:
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            raise ConnectionError(f"closed with code {response.get('code')}")
        return response["text"]

    async def receive_close(self, timeout: float = 5) -> int:
        while True:
            response = await self.receive_output(timeout)
            if response["type"] == "websocket.close":
                return response.get("code", 1000)

    async def has_output(self, timeout: float) -> bool:
        """Wait for a message without the receive timeout that would cancel the app."""
        import asyncio

        for _ in range(int(timeout / 0.05)):
            if not self.output_queue.empty():
                return True
            await asyncio.sleep(0.05)
        return not self.output_queue.empty()

    async def send_json_to(self, data: dict) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def disconnect(self, code: int = 1000, timeout: float = 5) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


def communicator(slug: str, cookie: str) -> WebsocketCommunicator:
    headers = [
        (b"origin", b"http://127.0.0.1"),
        (b"host", b"127.0.0.1"),
        (b"cookie", display_cookie(cookie)),
    ]
    return WebsocketCommunicator(application, f"/ws/boards/{slug}/", headers=headers)


async def receive(comm: WebsocketCommunicator, timeout: float = 5) -> dict:
    return json.loads(await comm.receive_from(timeout=timeout))


async def refused_with(comm: WebsocketCommunicator) -> int:
    """The close code of a handshake that is refused: accepted, then closed before any data.

    docs/protocol.md promises that shape (so a page tells "not allowed" from "network down");
    connect() alone would call such a socket connected.
    """
    await comm.send_input({"type": "websocket.connect"})
    accepted = await comm.receive_output(5)
    assert accepted["type"] == "websocket.accept", f"refused before accepting: {accepted}"
    closed = await comm.receive_output(5)
    assert closed["type"] == "websocket.close", f"not refused: {closed}"
    return closed["code"]


async def queries_in_the_database_thread(work) -> list[str]:
    """The SQL the consumers' database thread runs while `work` is awaited.

    database_sync_to_async runs every query of the process in one thread, and Django keeps one
    connection (and its query log) per thread: the capture has to start, stop and be read there.
    """
    capture = CaptureQueriesContext(connection)
    await database_sync_to_async(capture.__enter__)()
    try:
        await work()
    finally:
        await database_sync_to_async(capture.__exit__)(None, None, None)
    return await database_sync_to_async(lambda: [q["sql"] for q in capture.captured_queries])()
