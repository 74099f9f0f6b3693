"""The board websocket end to end: who gets in, who is closed, and revocation closes live."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from tests.pipeline_helpers import WebsocketCommunicator, add_display, display_cookie, refused_with
from wallboard.asgi import application
from wallboard.boards.models import Board, Display, Tenant
from wallboard.live.publish import asend_display_control

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")  # a browser always sends it; the Origin must match it


@database_sync_to_async
def make_board_and_display(expired: bool = False) -> tuple[Board, Display, bytes]:
    """The support board (the sales board beside it) and a display of it, with its TV's cookie."""
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t")
    board = Board.objects.create(slug="support", title="Support", tenant=tenant)
    Board.objects.create(slug="sales", title="Sales", tenant=tenant)
    display, cookie = add_display(board)
    if expired:
        display.expires = timezone.now() - timedelta(minutes=1)
        display.save(update_fields=["expires"])
    return board, display, display_cookie(cookie)


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


def socket(path: str, cookie: bytes | None = None, origin: tuple[bytes, bytes] = ORIGIN) -> WebsocketCommunicator:
    headers = [h for h in (HOST, origin, (b"cookie", cookie) if cookie else None) if h]
    return WebsocketCommunicator(application, path, headers)


async def test_it_admits_a_display_and_closes_it_when_revoked():
    _, display, cookie = await make_board_and_display()
    communicator = socket("/ws/boards/support/", cookie)
    connected, code = await communicator.connect()
    assert connected, code
    first = json.loads(await communicator.receive_from())
    assert first["board"] == "support"
    await asend_display_control(display.pk, "revoke")
    closed = await communicator.receive_output(5)
    assert closed == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()


async def test_it_refuses_a_display_on_another_board():
    _, _, cookie = await make_board_and_display()
    assert await refused_with(socket("/ws/boards/sales/", cookie)) == 4403


async def test_it_refuses_an_expired_display():
    _, _, cookie = await make_board_and_display(expired=True)
    assert await refused_with(socket("/ws/boards/support/", cookie)) == 4403


async def test_it_refuses_a_forged_display_cookie():
    await make_board_and_display()
    assert await refused_with(socket("/ws/boards/support/", display_cookie("1:0123456789abcdef:forged"))) == 4403


async def test_it_refuses_a_foreign_origin():
    _, _, cookie = await make_board_and_display()
    foreign = socket("/ws/boards/support/", cookie, origin=(b"origin", b"https://evil.example"))
    assert await refused_with(foreign) == 4403


async def test_it_refuses_a_user_without_the_grant_and_admits_one_with_it():
    board, _, _ = await make_board_and_display()
    assert await refused_with(socket("/ws/boards/support/", await session_cookie("alice"))) == 4403
    communicator = socket("/ws/boards/support/", await session_cookie("bob", grant=board))
    connected, code = await communicator.connect()
    assert connected, code
    assert json.loads(await communicator.receive_from())["board"] == "support"
    await communicator.disconnect()


async def test_it_refuses_anonymous_connections():
    await make_board_and_display()
    assert await refused_with(socket("/ws/boards/support/")) == 4403
