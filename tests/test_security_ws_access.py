"""Websocket access after the handshake: revocation closes open sockets, Origin is the whole
site, and every refusal is an accepted socket closed with the code docs/protocol.md promises.

All through wallboard.asgi.application, with a real Redis behind the channel layer (the session's,
or, for the Redis-outage test, one of its own that the test stops).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group, User
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.pipeline_helpers import WebsocketCommunicator, add_display
from wallboard.asgi import application
from wallboard.boards import access
from wallboard.boards.models import Board, Display, DisplayBoard, Tenant
from wallboard.devstack.embedded_redis import EmbeddedRedis
from wallboard.live import consumers, store

pytestmark = pytest.mark.django_db(transaction=True)
HOST = (b"host", b"127.0.0.1:8000")
ORIGIN = (b"origin", b"http://127.0.0.1:8000")
# Long enough for a busy shared machine; the check itself runs every 0.1 s in these tests.
CLOSE_WITHIN = 5
# The real timings, read before any test speeds them up.
DEFAULT_CHECK_SECONDS = getattr(consumers, "ACCESS_CHECK_SECONDS", None)
DEFAULT_CACHE_SECONDS = consumers.ACTIVE_CACHE_SECONDS


@pytest.fixture(autouse=True)
def fast_checks(monkeypatch, settings):
    """Re-check every 0.1 s, always against the database.

    No answer is shared between checks, so none left by an earlier test (test databases hand
    the same ids out again) can stand in for this test's.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    monkeypatch.setattr(consumers, "ACCESS_CHECK_SECONDS", 0.1, raising=False)
    monkeypatch.setattr(consumers, "ACTIVE_CACHE_SECONDS", 0.0)


@pytest.fixture
def stored_board(redis_client):
    """A board state in Redis, so that a resync would answer with a real snapshot.

    Under a new epoch, as after a restart: a snapshot built for an earlier test's board of the
    same slug is never sent in its place.
    """
    head = store.BoardHead(store.new_epoch(), 5, "2026-11-22T10:00:00+00:00", '{"state":"ok"}')
    store.save("support", head, store.fragments_of({"queues": {"115": {"id": "115"}}, "agents": {}}), replace=True)


@pytest.fixture
def doomed_redis(settings):
    """The channel layer on a Redis server of its own, which the test may stop."""
    folder = Path(tempfile.mkdtemp(prefix="wb-doomed-"))  # short: unix socket paths are limited
    server = EmbeddedRedis(folder)
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "wallboard.live.layer.SharedPubSubChannelLayer",
                                           "CONFIG": {"hosts": [server.start()]}}}
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Supervisor:
    user: User
    board: Board
    group: Group | None
    session_key: str
    cookie: bytes


def _board() -> Board:
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t")
    return Board.objects.create(slug="support", title="Support", tenant=tenant)


@database_sync_to_async
def make_supervisor(via_group: bool = False) -> Supervisor:
    board = _board()
    user = User.objects.create_user("alice", password="pw-123456")
    group = None
    if via_group:
        group = Group.objects.create(name="Support leads")
        user.groups.add(group)
        board.viewer_groups.add(group)
    else:
        board.viewers.add(user)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={session.session_key}".encode()
    return Supervisor(user, board, group, session.session_key, cookie)


@database_sync_to_async
def make_display() -> tuple[Display, bytes]:
    display, cookie = add_display(_board())
    return display, f"{access.DISPLAY_COOKIE}={cookie}".encode()


def socket(path: str = "/ws/boards/support/", cookie: bytes | None = None, origin=ORIGIN, host=HOST,
           scheme: str | None = None) -> WebsocketCommunicator:
    headers = [h for h in (host, origin, (b"cookie", cookie) if cookie else None) if h]
    communicator = WebsocketCommunicator(application, path, headers)
    if scheme is not None:
        communicator.scope["scheme"] = scheme
    return communicator


async def open_socket(cookie: bytes) -> tuple[WebsocketCommunicator, dict]:
    communicator = socket(cookie=cookie)
    connected, code = await communicator.connect()
    assert connected, code
    return communicator, json.loads(await communicator.receive_from())


async def refused_with(communicator: WebsocketCommunicator) -> int:
    """The close code of a handshake that must be accepted first and then closed."""
    await communicator.send_input({"type": "websocket.connect"})
    accepted = await communicator.receive_output(5)
    assert accepted["type"] == "websocket.accept", f"refused before accepting: {accepted}"
    closed = await communicator.receive_output(5)
    assert closed["type"] == "websocket.close", closed
    return closed["code"]


async def assert_closed_with(communicator: WebsocketCommunicator, code: int) -> None:
    """The server closes the socket without sending anything else first."""
    message = await communicator.receive_output(CLOSE_WITHIN)
    assert message == {"type": "websocket.close", "code": code}
    await communicator.disconnect()


def _remove_grant(s: Supervisor) -> None:
    s.board.viewers.remove(s.user)


def _remove_group_from_board(s: Supervisor) -> None:
    s.board.viewer_groups.remove(s.group)


def _remove_user_from_group(s: Supervisor) -> None:
    s.user.groups.remove(s.group)


def _deactivate(s: Supervisor) -> None:
    s.user.is_active = False
    s.user.save()


def _delete(s: Supervisor) -> None:
    s.user.delete()


def _log_out_everywhere(s: Supervisor) -> None:
    Session.objects.filter(session_key=s.session_key).delete()


def _change_password(s: Supervisor) -> None:
    s.user.set_password("another-pw-987")
    s.user.save()


def _delete_board(s: Supervisor) -> None:
    s.board.delete()


ENDINGS = {
    "grant-removed": (_remove_grant, False),
    "group-grant-removed": (_remove_group_from_board, True),
    "user-left-the-group": (_remove_user_from_group, True),
    "deactivated": (_deactivate, False),
    "deleted": (_delete, False),
    "logged-out-everywhere": (_log_out_everywhere, False),
    "password-changed": (_change_password, False),
    "board-deleted": (_delete_board, False),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
async def test_it_closes_a_supervisor_socket_when_their_access_ends(ending):
    end_access, via_group = ENDINGS[ending]
    supervisor = await make_supervisor(via_group=via_group)
    communicator, _ = await open_socket(supervisor.cookie)
    await database_sync_to_async(end_access)(supervisor)
    await assert_closed_with(communicator, 4403)


async def test_it_keeps_a_supervisor_socket_open_while_access_holds(stored_board):
    supervisor = await make_supervisor(via_group=True)
    communicator, first = await open_socket(supervisor.cookie)
    assert first["type"] == "snapshot"
    assert not await communicator.has_output(0.6), "several checks passed and nothing was sent"
    await communicator.send_json_to({"type": "resync"})
    assert json.loads(await communicator.receive_from())["type"] == "snapshot"
    await communicator.disconnect()


async def test_it_rechecks_access_before_answering_a_resync(monkeypatch, stored_board):
    # No periodic check in this test: the resync itself must notice the revocation.
    monkeypatch.setattr(consumers, "ACCESS_CHECK_SECONDS", 3600, raising=False)
    supervisor = await make_supervisor()
    communicator, first = await open_socket(supervisor.cookie)
    assert first["type"] == "snapshot"
    await database_sync_to_async(_remove_grant)(supervisor)
    await communicator.send_json_to({"type": "resync"})
    await assert_closed_with(communicator, 4403)


def _revoke(display: Display) -> None:
    Display.objects.filter(pk=display.pk).update(revoked=timezone.now())


def _expire(display: Display) -> None:
    Display.objects.filter(pk=display.pk).update(expires=timezone.now())


def _issue_new_url(display: Display) -> None:
    display.issue_token()
    display.save()


def _switch_to_another_board(display: Display) -> None:
    other = Board.objects.create(slug="sales", title="Sales", tenant=Tenant.objects.get())
    display.rotation.all().delete()
    DisplayBoard.objects.create(display=display, board=other)


DISPLAY_ENDINGS = {"revoked": _revoke, "expired": _expire, "new-url": _issue_new_url, "board-switched": _switch_to_another_board}


@pytest.mark.parametrize("ending", list(DISPLAY_ENDINGS))
async def test_it_closes_a_display_revoked_while_no_message_arrives(ending):
    """What happens when Redis is down: no board message, no control message, only the database."""
    display, cookie = await make_display()
    communicator, _ = await open_socket(cookie)
    await database_sync_to_async(DISPLAY_ENDINGS[ending])(display)
    await assert_closed_with(communicator, 4401)


async def test_it_closes_a_display_revoked_while_redis_is_down(doomed_redis, caplog):
    display, cookie = await make_display()
    communicator, _ = await open_socket(cookie)
    layer = get_channel_layer()
    await sync_to_async(doomed_redis.stop)()
    await database_sync_to_async(_revoke)(display)
    # Closed by the database check alone; leaving the groups fails quietly (no traceback).
    await assert_closed_with(communicator, 4401)
    assert not [r for r in caplog.records if r.name.startswith("wallboard") and (r.exc_info or r.levelno >= logging.ERROR)]
    await layer.flush()


async def test_it_keeps_a_display_socket_open_while_it_may_show_the_board():
    display, cookie = await make_display()
    communicator, _ = await open_socket(cookie)
    assert not await communicator.has_output(0.6), "several checks passed and nothing was sent"
    await communicator.disconnect()


def test_it_rechecks_access_well_within_a_poll_cycle():
    """The real timings, not the fast ones of these tests: check period plus cache age under 10 s."""
    assert DEFAULT_CHECK_SECONDS is not None, "no periodic access check"
    assert DEFAULT_CHECK_SECONDS + DEFAULT_CACHE_SECONDS < 10


# --- Origin: scheme, host and port of the site the handshake came to ---------------------------


def handshake(origin: str | None, host: str | None = "127.0.0.1:8000", scheme: str = "ws",
              headers: tuple = ()) -> dict:
    raw = [(b"origin", origin.encode())] if origin is not None else []
    raw += [(b"host", host.encode())] if host is not None else []
    return {"type": "websocket", "scheme": scheme, "headers": raw + list(headers)}


@pytest.mark.parametrize("origin, host, scheme", [
    ("http://127.0.0.1:8000", "127.0.0.1:8000", "ws"),
    ("http://localhost", "localhost", "ws"),
    ("http://localhost:80", "localhost", "ws"),
    ("https://127.0.0.1", "127.0.0.1:443", "wss"),
    ("http://[::1]:8000", "[::1]:8000", "ws"),
    ("HTTP://LOCALHOST:8000", "localhost:8000", "ws"),
])
def test_it_accepts_an_origin_of_the_same_site(origin, host, scheme):
    assert access.origin_allowed(handshake(origin, host, scheme))


@pytest.mark.parametrize("origin, host, scheme", [
    ("http://127.0.0.1:9999", "127.0.0.1:8000", "ws"),  # same host, another port: another site
    ("http://127.0.0.1", "127.0.0.1:8000", "ws"),
    ("https://127.0.0.1:8000", "127.0.0.1:8000", "ws"),  # a page on https does not open ws://
    ("http://127.0.0.1", "127.0.0.1", "wss"),
    ("http://localhost:8000", "127.0.0.1:8000", "ws"),
    ("http://evil.example:8000", "evil.example:8000", "ws"),  # DNS rebinding: not an allowed host
    ("null", "127.0.0.1:8000", "ws"),
    ("http://127.0.0.1:8000/path", "127.0.0.1:8000", "ws"),
    ("http://user@127.0.0.1:8000", "127.0.0.1:8000", "ws"),
    ("ftp://127.0.0.1:8000", "127.0.0.1:8000", "ws"),
    ("http://127.0.0.1:8000", None, "ws"),
    (None, "127.0.0.1:8000", "ws"),
])
def test_it_refuses_an_origin_of_another_site(origin, host, scheme):
    assert not access.origin_allowed(handshake(origin, host, scheme))


def test_it_reads_the_scheme_from_the_proxy_header_as_django_does(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    behind_tls = ((b"x-forwarded-proto", b"https"),)
    assert access.origin_allowed(handshake("https://127.0.0.1", "127.0.0.1", headers=behind_tls))
    assert not access.origin_allowed(handshake("http://127.0.0.1", "127.0.0.1", headers=behind_tls))


def test_it_accepts_exactly_the_trusted_origins(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://boards.example.com"]
    # A proxy that rewrites Host: the Origin cannot match it, the trusted list can.
    assert access.origin_allowed(handshake("https://boards.example.com", "web:8000"))
    assert access.origin_allowed(handshake("https://boards.example.com:443", "web:8000"))
    assert not access.origin_allowed(handshake("https://boards.example.com:8443", "web:8000"))
    assert not access.origin_allowed(handshake("http://boards.example.com", "web:8000"))
    assert not access.origin_allowed(handshake("https://x.boards.example.com", "web:8000"))


async def test_it_refuses_an_origin_on_another_port_and_admits_the_matching_one():
    _, cookie = await make_display()
    wrong_port = socket(cookie=cookie, origin=(b"origin", b"http://127.0.0.1:9999"))
    assert await refused_with(wrong_port) == 4403
    communicator, first = await open_socket(cookie)
    assert first["board"] == "support"
    await communicator.disconnect()


# --- Refusals: accepted, then closed with the documented code, never a traceback -----------------


@pytest.mark.parametrize("path", ["/ws/boards/DEMO/", "/ws/boards/../admin/", "/ws/nothing", "/", "/ws/boards/support"])
async def test_it_closes_an_unknown_path_with_4404_and_no_traceback(path, caplog):
    caplog.set_level(logging.INFO)
    assert await refused_with(socket(path)) == 4404
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


async def test_it_closes_a_foreign_origin_with_4403_after_accepting():
    _, cookie = await make_display()
    assert await refused_with(socket(cookie=cookie, origin=(b"origin", b"https://evil.example"))) == 4403


async def test_it_closes_a_missing_origin_with_4403_after_accepting():
    _, cookie = await make_display()
    assert await refused_with(socket(cookie=cookie, origin=None)) == 4403


async def test_it_closes_an_unknown_board_with_4404_after_accepting():
    _, cookie = await make_display()
    assert await refused_with(socket("/ws/boards/nope/", cookie=cookie)) == 4404


async def test_it_closes_a_connection_without_credentials_with_4403_after_accepting():
    await make_display()
    assert await refused_with(socket()) == 4403


def test_it_forgets_access_answers_too_old_to_use():
    """Session keys come and go: their answers must not pile up for the life of the process."""
    cache = consumers.AnswerCache()
    for n in range(1000):
        cache.remember(("session", n, f"key{n}", 1), 100.0, True, max_age=3.0)
    cache.remember(("display", 1), 100.0 + consumers.PRUNE_EVERY_SECONDS + 1, False, max_age=3.0)
    assert len(cache) == 1
    assert cache.get(("display", 1), 100.0 + consumers.PRUNE_EVERY_SECONDS + 2, max_age=3.0) is False
    assert cache.get(("session", 1, "key1", 1), 100.0 + consumers.PRUNE_EVERY_SECONDS + 2, max_age=3.0) is None


def test_it_keeps_answers_between_prunes():
    """A pass over the dict at most once a minute: answers asked in between stay, young or old."""
    cache = consumers.AnswerCache()
    cache.remember(("session", 1, "a", 1), 100.0, True, max_age=3.0)
    cache.remember(("session", 2, "b", 1), 110.0, True, max_age=3.0)  # 10 s on: no pass yet
    assert len(cache) == 2
    assert cache.get(("session", 2, "b", 1), 112.0, max_age=3.0) is True
    assert cache.get(("session", 2, "b", 1), 113.5, max_age=3.0) is None
