"""The board websocket end to end: who gets in, who is closed, and revocation closes live."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from wallboard.asgi import application
from wallboard.boards import access
from wallboard.boards.models import Board, Display, DisplayBoard, Tenant
from wallboard.live.publish import asend_display_control

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")  # a browser always sends it; the Origin must match it


@database_sync_to_async
def make_board_and_display(expired: bool = False) -> tuple[Board, Display]:
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t")
    board = Board.objects.create(slug="support", title="Support", tenant=tenant)
    Board.objects.create(slug="sales", title="Sales", tenant=tenant)
    display = Display(name="Lobby TV", expires=timezone.now() - timedelta(minutes=1) if expired else None)
    display.issue_token()
    display.save()
    DisplayBoard.objects.create(display=display, board=board)
    return board, display


@database_sync_to_async
def session_cookie(username: str, grant: Board | None = None) -> bytes:
    user = User.objects.create_user(username, password="pw-123456")
    if grant is not None:
        grant.viewers.add(user)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}".encode()


@database_sync_to_async
def display_cookie(display: Display) -> bytes:
    return f"{access.DISPLAY_COOKIE}={access.make_display_cookie(display)}".encode()


class Socket(ApplicationCommunicator):
    """channels.testing.WebsocketCommunicator without its daphne import (daphne is not a dependency)."""

    def __init__(self, path: str, headers: list[tuple[bytes, bytes]]):
        scope = {"type": "websocket", "path": path, "query_string": b"", "headers": headers, "subprotocols": [],
                 "client": ("10.0.0.5", 40000)}
        super().__init__(application, scope)

    async def connect(self) -> tuple[bool, int | None]:
        """(True, None) when the socket stays open; (False, code) when it is refused.

        A refusal comes after the accept, as a close code (docs/protocol.md), so the answer
        is the accept followed by either the first message (kept for receive_from) or a close.
        """
        self.first = None
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(5)
        if response["type"] == "websocket.accept":
            response = await self.receive_output(5)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        self.first = response
        return True, None

    async def receive_from(self) -> str:
        response, self.first = self.first, None
        response = response or await self.receive_output(5)
        assert response["type"] == "websocket.send", response
        return response["text"]

    async def disconnect(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(5)


async def connect(path: str, cookie: bytes | None = None, origin: tuple | None = ORIGIN):
    headers = [h for h in [HOST, origin, (b"cookie", cookie) if cookie else None] if h]
    communicator = Socket(path, headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def test_it_admits_a_display_and_closes_it_when_revoked():
    _, display = await make_board_and_display()
    communicator, connected, _ = await connect("/ws/boards/support/", await display_cookie(display))
    assert connected
    first = json.loads(await communicator.receive_from())
    assert first["board"] == "support"
    await asend_display_control(display.pk, "revoke")
    closed = await communicator.receive_output(5)
    assert closed == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()


async def test_it_refuses_a_display_on_another_board():
    _, display = await make_board_and_display()
    communicator, connected, code = await connect("/ws/boards/sales/", await display_cookie(display))
    assert (connected, code) == (False, 4403)


async def test_it_refuses_an_expired_display():
    _, display = await make_board_and_display(expired=True)
    _, connected, code = await connect("/ws/boards/support/", await display_cookie(display))
    assert (connected, code) == (False, 4403)


async def test_it_refuses_a_forged_display_cookie():
    await make_board_and_display()
    _, connected, code = await connect("/ws/boards/support/", b"wb_display=1:0123456789abcdef:forged")
    assert (connected, code) == (False, 4403)


async def test_it_refuses_a_foreign_origin():
    _, display = await make_board_and_display()
    _, connected, code = await connect("/ws/boards/support/", await display_cookie(display), origin=(b"origin", b"https://evil.example"))
    assert (connected, code) == (False, 4403)


async def test_it_refuses_a_user_without_the_grant_and_admits_one_with_it():
    board, _ = await make_board_and_display()
    _, connected, code = await connect("/ws/boards/support/", await session_cookie("alice"))
    assert (connected, code) == (False, 4403)
    communicator, connected, _ = await connect("/ws/boards/support/", await session_cookie("bob", grant=board))
    assert connected
    await communicator.disconnect()


async def test_it_refuses_anonymous_connections():
    await make_board_and_display()
    _, connected, code = await connect("/ws/boards/support/")
    assert (connected, code) == (False, 4403)
